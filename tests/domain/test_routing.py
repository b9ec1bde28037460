"""Routing table (design §2): one case per rule, thresholds, dependencies."""

from __future__ import annotations

import pytest
from domain_samples import RULES, application, location

from domain.routing import route


def codes(app) -> list[str]:
    return [r.agency.code.value for r in route(app, RULES)]


def by_code(app) -> dict:
    return {r.agency.code.value: r for r in route(app, RULES)}


def test_private_property_without_equipment_routes_nowhere():
    assert route(application(location()), RULES) == []


def test_private_property_routes_only_what_equipment_requires():
    app = application(location(drone=True, fire_effects=True, crew_size=500, vehicles=40))
    # crew and vehicles on private property need no one; the drone and the fire do
    assert codes(app) == ["fire", "aviation"]


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"kind": "park"}, ["parks"]),
        ({"kind": "urban_forest"}, ["parks"]),
        ({"kind": "heritage_site"}, ["heritage"]),
        ({"kind": "public_street"}, ["district"]),
        ({"kind": "public_space"}, ["district"]),
        ({"kind": "transit_station"}, ["transit"]),
        ({"kind": "government_building"}, []),
        ({"road_use": "parking"}, ["district", "transport"]),
        ({"road_use": "lane_closure"}, ["district", "transport", "police"]),
        ({"road_use": "full_closure"}, ["district", "transport", "police"]),
        ({"road_use": "rolling_closure"}, ["district", "transport", "police"]),
        ({"prop_weapons": True}, ["police"]),
        ({"pyrotechnics": True}, ["police", "fire"]),
        ({"fire_effects": True}, ["fire"]),
        ({"drone": True}, ["aviation"]),
    ],
)
def test_one_rule_each(overrides, expected):
    assert codes(application(location(**overrides))) == expected


def test_foreign_crew_routes_police_and_culture_ministry_for_every_location():
    app = application(location(), location(name="Studio 2"), foreign=2)
    routed = by_code(app)
    assert list(routed) == ["police", "culture_ministry"]
    assert routed["culture_ministry"].location_indexes == [0, 1]
    assert routed["police"].location_indexes == [0, 1]
    assert routed["police"].depends_on == ["culture_ministry"]
    assert routed["culture_ministry"].reasons == ["the crew includes 2 foreign member(s)"]


@pytest.mark.parametrize(("crew", "police"), [(50, False), (51, True)])
def test_police_crew_threshold_is_more_than_50_at_a_public_location(crew, police):
    assert ("police" in codes(application(location(kind="park", crew_size=crew)))) is police


def test_big_crew_at_a_government_building_is_not_a_public_location():
    assert codes(application(location(kind="government_building", crew_size=300))) == []


@pytest.mark.parametrize(("vehicles", "transport"), [(5, False), (6, True)])
def test_transport_vehicle_threshold_is_more_than_5_on_public_roads(vehicles, transport):
    assert ("transport" in codes(application(location(kind="public_street", vehicles=vehicles)))) is transport


def test_vehicles_at_a_park_do_not_need_transport():
    assert codes(application(location(kind="park", vehicles=30))) == ["parks"]


def test_reasons_and_location_indexes_are_human_readable():
    app = application(
        location(name="Rumah", kind="private_property"),
        location(name="Taman Suropati", kind="park", crew_size=51),
        location(name="Jl. Sudirman", kind="public_street", vehicles=6, road_use="full_closure"),
    )
    routed = by_code(app)
    assert routed["parks"].location_indexes == [1]
    assert routed["parks"].reasons == ["locations[1] Taman Suropati is a park"]
    assert routed["police"].location_indexes == [1, 2]
    assert routed["police"].reasons == [
        "locations[1] Taman Suropati has a crew of 51 at a public location (more than 50)",
        "locations[2] Jl. Sudirman has road use full closure",
    ]
    assert routed["transport"].reasons == [
        "locations[2] Jl. Sudirman has road use full closure",
        "locations[2] Jl. Sudirman has 6 vehicles on public roads (more than 5)",
    ]
    assert routed["district"].reasons == [
        "locations[2] Jl. Sudirman is a public street",
        "locations[2] Jl. Sudirman has road use full closure",
    ]


def test_output_follows_catalog_order_and_carries_catalog_agencies():
    app = application(location(kind="transit_station", drone=True, pyrotechnics=True), location(kind="heritage_site"),
                      foreign=1)
    routed = route(app, RULES)
    assert [r.agency.code.value for r in routed] == ["heritage", "police", "fire", "aviation", "transit",
                                                     "culture_ministry"]
    assert routed[0].agency == RULES.catalog.get("heritage")
    assert routed[0].agency.base_url == "http://sim.test/agencies/heritage"


@pytest.mark.parametrize(
    ("road_use", "foreign", "police_waits_for"),
    [
        ("lane_closure", 0, []),
        ("full_closure", 0, ["transport"]),
        ("rolling_closure", 0, ["transport"]),
        ("lane_closure", 1, ["culture_ministry"]),
        ("full_closure", 1, ["transport", "culture_ministry"]),
    ],
)
def test_dependencies(road_use, foreign, police_waits_for):
    routed = by_code(application(location(kind="public_street", road_use=road_use), foreign=foreign))
    assert routed["police"].depends_on == police_waits_for
    assert all(r.depends_on == [] for code, r in routed.items() if code != "police")


def test_closure_at_one_location_makes_police_wait_even_when_police_came_from_another():
    app = application(location(prop_weapons=True), location(road_use="rolling_closure"))
    assert by_code(app)["police"].depends_on == ["transport"]


def test_routing_is_deterministic():
    app = application(location(kind="park", drone=True), location(kind="public_space", road_use="parking"), foreign=3)
    assert route(app, RULES) == route(app, RULES)


def test_thresholds_come_from_the_rule_set():
    strict = RULES.model_copy(update={"routing": RULES.routing.model_copy(
        update={"police_crew_threshold": 10, "transport_vehicle_threshold": 0})})
    app = application(location(kind="public_space", crew_size=11, vehicles=1))
    assert [r.agency.code.value for r in route(app, strict)] == ["district", "transport", "police"]
