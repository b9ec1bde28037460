"""Which agencies an application needs, and why (design §2): a pure function of application and rule set."""

from __future__ import annotations

from schemas.application import LocationKind, PermitApplication, RoadUse
from schemas.catalog import AgencyCode, RuleSet
from schemas.contracts import RoutedAgency

CLOSURES = frozenset({RoadUse.lane_closure, RoadUse.full_closure, RoadUse.rolling_closure})
BLOCKING_CLOSURES = frozenset({RoadUse.full_closure, RoadUse.rolling_closure})  # police waits for transport's plan
PUBLIC_ROADS = frozenset({LocationKind.public_street, LocationKind.public_space})

KIND_LABELS = {
    LocationKind.park: "a park",
    LocationKind.urban_forest: "an urban forest",
    LocationKind.heritage_site: "a heritage site",
    LocationKind.public_street: "a public street",
    LocationKind.public_space: "a public space",
    LocationKind.transit_station: "a transit station",
    LocationKind.government_building: "a government building",
    LocationKind.private_property: "private property",
}


def route(app: PermitApplication, rules: RuleSet) -> list[RoutedAgency]:
    """The agencies `app` must be cleared by, in catalog order, with dependencies, locations and reasons."""
    found: dict[AgencyCode, tuple[set[int], list[str]]] = {}

    def need(code: AgencyCode, indexes: list[int], reason: str) -> None:
        seen, reasons = found.setdefault(code, (set(), []))
        seen.update(indexes)
        if reason not in reasons:
            reasons.append(reason)

    r = rules.routing
    for i, loc in enumerate(app.locations):
        where = f"locations[{i}] {loc.name}"
        kind = f"{where} is {KIND_LABELS[loc.kind]}"
        road = f"{where} has road use {loc.road_use.value.replace('_', ' ')}"
        if loc.kind in (LocationKind.park, LocationKind.urban_forest):
            need(AgencyCode.parks, [i], kind)
        if loc.kind == LocationKind.heritage_site:
            need(AgencyCode.heritage, [i], kind)
        if loc.kind == LocationKind.transit_station:
            need(AgencyCode.transit, [i], kind)
        if loc.kind in PUBLIC_ROADS:
            need(AgencyCode.district, [i], kind)
        if loc.road_use != RoadUse.none:
            need(AgencyCode.district, [i], road)
            need(AgencyCode.transport, [i], road)
        if loc.kind in PUBLIC_ROADS and loc.vehicles > r.transport_vehicle_threshold:
            need(AgencyCode.transport, [i], f"{where} has {loc.vehicles} vehicles on public roads "
                 f"(more than {r.transport_vehicle_threshold})")
        if loc.kind in r.public_location_kinds and loc.crew_size > r.police_crew_threshold:
            need(AgencyCode.police, [i], f"{where} has a crew of {loc.crew_size} at a public location "
                 f"(more than {r.police_crew_threshold})")
        if loc.road_use in CLOSURES:
            need(AgencyCode.police, [i], road)
        if loc.prop_weapons:
            need(AgencyCode.police, [i], f"{where} uses prop weapons")
        if loc.pyrotechnics:
            need(AgencyCode.police, [i], f"{where} uses pyrotechnics")
            need(AgencyCode.fire, [i], f"{where} uses pyrotechnics")
        if loc.fire_effects:
            need(AgencyCode.fire, [i], f"{where} uses special effects with fire")
        if loc.drone:
            need(AgencyCode.aviation, [i], f"{where} flies a drone")
    if app.is_foreign:
        everywhere = list(range(len(app.locations)))
        crew = f"the crew includes {len(app.foreign_crew)} foreign member(s)"
        need(AgencyCode.police, everywhere, crew)
        need(AgencyCode.culture_ministry, everywhere, crew)

    waits_for: set[AgencyCode] = set()
    if any(loc.road_use in BLOCKING_CLOSURES for loc in app.locations):
        waits_for.add(AgencyCode.transport)
    if app.is_foreign:
        waits_for.add(AgencyCode.culture_ministry)

    routed = []
    for agency in rules.catalog.agencies:
        if agency.code not in found:
            continue
        indexes, reasons = found[agency.code]
        depends_on = []
        if agency.code == AgencyCode.police:
            depends_on = [a.code.value for a in rules.catalog.agencies if a.code in waits_for and a.code in found]
        routed.append(
            RoutedAgency(agency=agency, depends_on=depends_on, location_indexes=sorted(indexes), reasons=reasons)
        )
    return routed
