"""The incentive programmes' rules (design §4): eligibility, the estimate, tranches, the settlement, claims.

Pure functions of the rule data and the application: no I/O and no clock (every time is a parameter, and
must be timezone-aware). Amounts are whole rupiah and every rounding is down; shares are computed exactly
(as fractions of the figures written in the rule data), never in floating point. Each rule says what it
checked in words a producer understands.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from fractions import Fraction

from domain.jakarta import JAKARTA, jakarta_date
from schemas.incentives import (
    Claim,
    ClaimCategory,
    FeatureCall,
    GrantTier,
    IncentiveApplication,
    PermitFacts,
    Programme,
    ProgrammeRules,
    RebateRules,
    RuleCheck,
    ShootingDaysRules,
    Tranche,
)
from schemas.problems import Problem

ENDED_PERMIT_STATUSES = frozenset({"rejected", "withdrawn", "lapsed"})
"""A permit application in one of these statuses cannot carry an incentive."""


@dataclass(frozen=True)
class Estimate:
    """What an application is expected to receive, and how that was worked out."""

    rate: float | None  # location_rebate only
    amount_idr: int
    detail: str


@dataclass(frozen=True)
class Settlement:
    """A location rebate after the audit: the rebate, what is still to pay or to claw back, what goes back."""

    rebate_idr: int  # the audited rebate, after the cap and the reservation
    final_tranche_idr: int  # rebate less what was paid, when positive
    clawback_idr: int  # what was paid beyond the rebate
    release_idr: int  # what of the reservation is left unpaid: back to the fund
    detail: str


def rupiah(amount: int) -> str:
    """`1500000000` → `Rp 1,500,000,000`."""
    return f"Rp {amount:,}"


# ---- eligibility -----------------------------------------------------------------------------------


def eligibility(programme: ProgrammeRules, app: IncentiveApplication, permit: PermitFacts | None,
                organisation_id: str | None, applied_at: dt.datetime) -> list[RuleCheck]:
    """Every rule of `programme`, passed or not, each with what it found; the application is eligible when all pass.

    A permit that is not the applicant organisation's is treated exactly like a missing one: nothing of it is
    told, nor used by the other rules.
    """
    own = permit if permit is not None and organisation_id is not None and permit.organisation_id == organisation_id \
        else None
    checks = [_linked_permit(app.permit_id, own)]
    if programme.code == Programme.location_rebate:
        assert programme.rebate is not None
        checks += [_shoot_days(own, programme.rebate.min_shoot_days), _planned_spend(programme.rebate, app),
                   _indonesian_crew(programme.rebate, app), _fiscal_year_window(app.fiscal_year, applied_at)]
    elif programme.code == Programme.shooting_days_grant:
        assert programme.shooting_days is not None
        lowest = programme.shooting_days.tiers[0]
        checks += [_shoot_days(own, lowest.min_days, f" (tier {lowest.min_days}+ days, {rupiah(lowest.amount_idr)})"),
                   _fiscal_year_window(app.fiscal_year, applied_at)]
    else:
        checks += _first_feature_checks(programme, app, applied_at)
    return checks


def _linked_permit(permit_id: str, own: PermitFacts | None) -> RuleCheck:
    if own is None:
        return RuleCheck(rule="linked_permit", ok=False,
                         detail=f"{permit_id} is not a permit application of your organisation; link the JFC permit "
                                "application (PRM-…) your organisation submitted for this production")
    named = f"{own.permit_id} ({own.production_title})"
    if own.status in ENDED_PERMIT_STATUSES:
        return RuleCheck(rule="linked_permit", ok=False,
                         detail=f"{named} is {own.status}; an incentive needs a permit application that is in "
                                "progress or issued")
    return RuleCheck(rule="linked_permit", ok=True, detail=f"{named} is your organisation's, {own.status}")


def _shoot_days(own: PermitFacts | None, minimum: int, what: str = "") -> RuleCheck:
    if own is None:
        return RuleCheck(rule="shoot_days", ok=False,
                         detail=f"no linked permit to count shoot days from; at least {minimum} needed{what}")
    days = len(set(own.shoot_dates))
    return RuleCheck(rule="shoot_days", ok=days >= minimum,
                     detail=f"{days} distinct shoot day(s) in Jakarta on {own.permit_id}; "
                            f"at least {minimum} needed{what}")


def _planned_spend(rules: RebateRules, app: IncentiveApplication) -> RuleCheck:
    q = _Qualifying.of(app.planned_jakarta_spend_idr, app.planned_post_production_idr, rules.post_production_max_share)
    return RuleCheck(rule="planned_spend", ok=q.total >= rules.min_planned_spend_idr,
                     detail=f"planned qualifying Jakarta spend {rupiah(q.total)} {q.explained('planned')}; "
                            f"at least {rupiah(rules.min_planned_spend_idr)} needed")


def _indonesian_crew(rules: RebateRules, app: IncentiveApplication) -> RuleCheck:
    share = Fraction(app.crew_indonesian, app.crew_total)
    return RuleCheck(rule="indonesian_crew", ok=share >= _exact(rules.min_indonesian_crew_share),
                     detail=f"{app.crew_indonesian} of {app.crew_total} crew are Indonesian ({_percent(share)}); "
                            f"at least {_percent(rules.min_indonesian_crew_share)} needed")


def _fiscal_year_window(fiscal_year: int, applied_at: dt.datetime) -> RuleCheck:
    current = jakarta_date(applied_at).year
    return RuleCheck(rule="fiscal_year", ok=current <= fiscal_year <= current + 1,
                     detail=f"fiscal year {fiscal_year}: applications are taken for the current fiscal year "
                            f"({current}) or the next ({current + 1})")


def _first_feature_checks(programme: ProgrammeRules, app: IncentiveApplication, applied_at: dt.datetime
                          ) -> list[RuleCheck]:
    rules = programme.first_feature
    assert rules is not None
    project = app.project
    grants = _either(rules.grants_idr)
    if app.director_first_feature is None:
        first = RuleCheck(rule="first_feature", ok=False, detail="not stated whether this is the director's first "
                          "feature (director_first_feature); the fund is for first features only")
    else:
        first = RuleCheck(rule="first_feature", ok=app.director_first_feature,
                          detail="the director's first feature, as stated" if app.director_first_feature
                          else "this is not the director's first feature; the fund is for first features only")
    if project is None:
        missing = "no project given (director, nationality, call and requested grant)"
        return [RuleCheck(rule="project", ok=False, detail=missing), first,
                RuleCheck(rule="director_indonesian", ok=False, detail=f"{missing}: the fund is for Indonesian "
                          "directors"),
                RuleCheck(rule="call_open", ok=False, detail=f"{missing}: name the call you apply to"),
                RuleCheck(rule="fiscal_year", ok=False, detail=f"{missing}: no call to take the fiscal year from"),
                RuleCheck(rule="grant_amount", ok=False, detail=f"{missing}: ask for {grants}")]
    checks = [RuleCheck(rule="project", ok=True, detail=f"a project directed by {project.director_name}"), first]
    indonesian = project.director_nationality == "ID"
    checks.append(RuleCheck(rule="director_indonesian", ok=indonesian,
                            detail="the director is Indonesian" if indonesian else
                            f"the director's nationality is {project.director_nationality}; the fund is for "
                            "Indonesian directors"))
    call = next((c for c in rules.calls if c.id == project.call_id), None)
    checks.append(_call_open(call, project.call_id, rules.calls, applied_at))
    if call is None:
        checks.append(RuleCheck(rule="fiscal_year", ok=False, detail="no call to take the fiscal year from"))
    else:
        checks.append(RuleCheck(rule="fiscal_year", ok=call.fiscal_year == app.fiscal_year,
                                detail=f"call {call.id} funds fiscal year {call.fiscal_year}; the application is "
                                       f"for fiscal year {app.fiscal_year}"))
    requested = project.requested_grant_idr
    if requested is None:
        checks.append(RuleCheck(rule="grant_amount", ok=False, detail=f"no grant requested; ask for {grants}"))
    else:
        checks.append(RuleCheck(rule="grant_amount", ok=requested in rules.grants_idr,
                                detail=f"asked for {rupiah(requested)}; the fund grants {grants}"))
    return checks


def _call_open(call: FeatureCall | None, call_id: str | None, calls: list[FeatureCall], applied_at: dt.datetime
               ) -> RuleCheck:
    known = ", ".join(c.id for c in calls) or "none"
    if call is None:
        what = "no call named (project.call_id)" if call_id is None else f"there is no call {call_id}"
        return RuleCheck(rule="call_open", ok=False, detail=f"{what}; the fund's calls: {known}")
    if applied_at < call.opens_at:
        return RuleCheck(rule="call_open", ok=False, detail=f"call {call.id} opens at {_moment(call.opens_at)}; "
                                                            f"applied at {_moment(applied_at)}")
    if applied_at > call.deadline:
        return RuleCheck(rule="call_open", ok=False, detail=f"call {call.id} closed at {_moment(call.deadline)}; "
                                                            f"applied at {_moment(applied_at)}")
    return RuleCheck(rule="call_open", ok=True, detail=f"call {call.id} is open until {_moment(call.deadline)}")


# ---- the estimate and the tranches ------------------------------------------------------------------


def estimate(programme: ProgrammeRules, app: IncentiveApplication, permit: PermitFacts | None,
             applied_at: dt.datetime) -> Estimate:
    """What the application should receive (and is reserved): the rebate on planned figures, the grant by shoot
    days reached, or the requested first-feature grant."""
    if programme.code == Programme.location_rebate:
        rules = programme.rebate
        assert rules is not None
        rate, why = _rate(rules, app, permit, applied_at)
        q = _Qualifying.of(app.planned_jakarta_spend_idr, app.planned_post_production_idr,
                           rules.post_production_max_share)
        exact = math.floor(_exact(rate) * q.total)
        amount = min(exact, rules.cap_idr)
        detail = (f"{_percent(rate)} ({why}) × planned qualifying Jakarta spend {rupiah(q.total)} "
                  f"{q.explained('planned')} = {rupiah(exact)}, rounded down to the rupiah")
        if amount < exact:
            detail += f"; capped at {rupiah(rules.cap_idr)} per production"
        return Estimate(rate=rate, amount_idr=amount, detail=detail)
    if programme.code == Programme.shooting_days_grant:
        assert programme.shooting_days is not None
        days = len(set(permit.shoot_dates)) if permit is not None else 0
        tier = grant_for_days(programme.shooting_days, days)
        if tier is None:
            lowest = programme.shooting_days.tiers[0]
            return Estimate(rate=None, amount_idr=0, detail=f"{days} distinct shoot day(s) in Jakarta reach no tier; "
                                                            f"the grant starts at {lowest.min_days} days")
        return Estimate(rate=None, amount_idr=tier.amount_idr,
                        detail=f"{days} distinct shoot day(s) in Jakarta: tier {tier.min_days}+ days, "
                               f"{rupiah(tier.amount_idr)}")
    requested = app.project.requested_grant_idr if app.project is not None else None
    return Estimate(rate=None, amount_idr=requested or 0,
                    detail=f"the requested grant of {rupiah(requested)}, if the panel awards it" if requested
                    else "no grant requested")


def _rate(rules: RebateRules, app: IncentiveApplication, permit: PermitFacts | None, applied_at: dt.datetime
          ) -> tuple[float, str]:
    """The rebate rate and why: 20% for a small budget, 15% when applied late, the lower of the two if both."""
    small = app.planned_jakarta_spend_idr < rules.small_budget_below_idr
    before = (min(permit.shoot_dates) - jakarta_date(applied_at)).days if permit and permit.shoot_dates else None
    late = before is not None and before < rules.late_within_days
    small_why = (f"planned Jakarta spend {rupiah(app.planned_jakarta_spend_idr)} is below "
                 f"{rupiah(rules.small_budget_below_idr)}")
    when = ("" if before is None else f"{before} day(s) before the first shoot day" if before > 0
            else "on the first shoot day" if before == 0 else f"{-before} day(s) after the first shoot day")
    late_why = f"applied {when}, fewer than {rules.late_within_days} days before it"
    if small and late:
        return min(rules.small_budget_rate, rules.late_rate), (
            f"{small_why} ({_percent(rules.small_budget_rate)}) and {late_why} ({_percent(rules.late_rate)}): "
            "the lower of the two applies")
    if small:
        return rules.small_budget_rate, f"the small-budget rate: {small_why}"
    if late:
        return rules.late_rate, f"the late-application rate: {late_why}"
    return rules.rate, "the standard rate"


def grant_for_days(rules: ShootingDaysRules, days: int) -> GrantTier | None:
    """The highest tier `days` distinct shoot days reach, or None below the lowest."""
    return next((tier for tier in reversed(rules.tiers) if days >= tier.min_days), None)


def tranche_plan(programme: ProgrammeRules, reserved_idr: int) -> list[Tranche]:
    """How `reserved_idr` is paid: the tranches add up to the reservation (the rebate's final one is settled later)."""
    if programme.code == Programme.location_rebate:
        assert programme.rebate is not None
        first = math.floor(_exact(programme.rebate.first_tranche_share) * reserved_idr)
        return [Tranche(n=1, amount_idr=first, milestone="photography_start"),
                Tranche(n=2, amount_idr=0, milestone="final")]
    if programme.code == Programme.shooting_days_grant:
        return [Tranche(n=1, amount_idr=reserved_idr, milestone="report")]
    rules = programme.first_feature
    assert rules is not None
    amounts = [math.floor(_exact(share) * reserved_idr) for share in rules.tranche_shares[:-1]]
    amounts.append(reserved_idr - sum(amounts))
    return [Tranche(n=n, amount_idr=amount, milestone=milestone)
            for n, (amount, milestone) in enumerate(zip(amounts, rules.milestones, strict=True), start=1)]


# ---- the settlement --------------------------------------------------------------------------------


def settle_rebate(rules: RebateRules, rate: float, audited_qualifying_idr: int, audited_post_production_idr: int,
                  reserved_idr: int, paid_idr: int) -> Settlement:
    """The audited rebate (never more than the cap, nor than the reservation), less what was paid.

    `audited_qualifying_idr` includes `audited_post_production_idr`; `reserved_idr` is the whole reservation,
    including what was paid of it.
    """
    q = _Qualifying.of(audited_qualifying_idr, audited_post_production_idr, rules.post_production_max_share)
    exact = math.floor(_exact(rate) * q.total)
    rebate = min(exact, rules.cap_idr, reserved_idr)
    parts = [(f"{_percent(rate)} × audited qualifying Jakarta spend {rupiah(q.total)} {q.explained('audited')} "
              f"= {rupiah(exact)}, rounded down to the rupiah")]
    if exact > rules.cap_idr:
        parts.append(f"capped at {rupiah(rules.cap_idr)} per production")
    if min(exact, rules.cap_idr) > reserved_idr:
        parts.append(f"limited to the {rupiah(reserved_idr)} reserved: the commission never pays more than it "
                     "reserved")
    final = max(rebate - paid_idr, 0)
    clawback = max(paid_idr - rebate, 0)
    release = max(reserved_idr - max(paid_idr, rebate), 0)
    parts.append(f"audited rebate {rupiah(rebate)}; already paid {rupiah(paid_idr)}")
    if clawback:
        parts.append(f"what was paid exceeds the audited rebate: {rupiah(clawback)} is clawed back and there is no "
                     "final tranche")
    else:
        parts.append(f"final tranche {rupiah(final)}")
    parts.append(f"{rupiah(release)} of the reservation goes back to the fund")
    return Settlement(rebate_idr=rebate, final_tranche_idr=final, clawback_idr=clawback, release_idr=release,
                      detail="; ".join(parts))


# ---- claims and reports ----------------------------------------------------------------------------


def claim_problems(programme: ProgrammeRules, claim: Claim, permit: PermitFacts) -> list[Problem]:
    """What is wrong with `claim` for `programme`, each at its field path (`lines[2].date`); empty when it is fine."""
    if programme.code == Programme.shooting_days_grant:
        return [] if (claim.report or "").strip() else [
            Problem(path="report", message="write the short report on the shoot (what was filmed where, and when)")]
    if programme.code == Programme.first_feature_fund:
        assert programme.first_feature is not None
        return _milestone_problems(programme.first_feature.milestones, claim)
    assert programme.rebate is not None
    return _expenditure_problems(programme.rebate, claim, permit)


def _milestone_problems(milestones: list[str], claim: Claim) -> list[Problem]:
    reportable = milestones[1:]  # photography_start is paid when the permit says photography began
    problems = []
    if claim.milestone not in reportable:
        given = "no milestone named" if claim.milestone is None else f"{claim.milestone!r} is not a milestone to report"
        problems.append(Problem(path="milestone", message=f"{given}; report one of: {', '.join(reportable)}"))
    if not (claim.report or "").strip():
        problems.append(Problem(path="report", message="write the milestone report (what was done, and when)"))
    return problems


def _expenditure_problems(rules: RebateRules, claim: Claim, permit: PermitFacts) -> list[Problem]:
    problems = []
    if not claim.lines:
        problems.append(Problem(path="lines", message="list the expenditure lines of the claim (category, supplier, "
                                                      "amount, date, whether spent in Jakarta)"))
    if claim.total_idr is None:
        problems.append(Problem(path="total_idr", message="give the claim's total (the sum of its lines)"))
    window = _spend_window(rules, permit)
    for i, line in enumerate(claim.lines):
        if not line.in_jakarta:
            problems.append(Problem(path=f"lines[{i}].in_jakarta", message=f"{rupiah(line.amount_idr)} to "
                                    f"{line.supplier} was not spent in Jakarta: only Jakarta spend qualifies; "
                                    "remove the line"))
        if window is not None and not window[0] <= line.date <= window[1]:
            problems.append(Problem(path=f"lines[{i}].date", message=f"dated {line.date}: spend counts from "
                                    f"{window[0]} (a year before the first shoot day) to {window[1]} "
                                    f"({rules.claim_due_days} days after the last shoot day)"))
    total = sum(line.amount_idr for line in claim.lines)
    if claim.total_idr is not None and claim.total_idr != total:
        problems.append(Problem(path="total_idr", message=f"the total {rupiah(claim.total_idr)} is not the sum of "
                                                          f"the lines, {rupiah(total)}"))
    jakarta = [line for line in claim.lines if line.in_jakarta]
    in_jakarta = sum(line.amount_idr for line in jakarta)
    post = sum(line.amount_idr for line in jakarta if line.category == ClaimCategory.post_production)
    share = _exact(rules.post_production_max_share)
    if post > share * in_jakarta:
        allowed = _Qualifying.of(in_jakarta, post, rules.post_production_max_share).post_counted
        part = _percent(Fraction(post, in_jakarta), up=True)
        problems.append(Problem(path="lines", message=f"post-production lines add up to {rupiah(post)} of the "
                                f"claim's {rupiah(in_jakarta)} in Jakarta ({part}); post-production counts for at "
                                f"most {_percent(share)} of qualifying spend, so beside {rupiah(in_jakarta - post)} "
                                f"of other spend at most {rupiah(allowed)} of it can be claimed"))
    return problems


def _spend_window(rules: RebateRules, permit: PermitFacts) -> tuple[dt.date, dt.date] | None:
    """The dates spend may carry: from a year before the first shoot day to the claim's due date."""
    if not permit.shoot_dates:
        return None
    first, last = min(permit.shoot_dates), max(permit.shoot_dates)
    if first.year == dt.MINYEAR:  # no year before it: the window opens at the first date there is
        earliest = dt.date.min
    else:
        try:
            earliest = first.replace(year=first.year - 1)
        except ValueError:  # 29 February
            earliest = first.replace(year=first.year - 1, day=28)
    days_left = (dt.date.max - last).days  # the window closes at the last date there is
    return earliest, last + dt.timedelta(days=min(rules.claim_due_days, days_left))


# ---- figures ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Qualifying:
    """Qualifying spend: everything but post-production, plus post-production up to its share of the whole.

    With share s, post-production counted = min(post-production, floor(other spend × s / (1 − s))), so that it
    is at most s of (other spend + post-production counted).
    """

    total: int
    other: int
    post: int  # as given
    post_counted: int
    share: float
    spend: int  # as given, post-production included

    @classmethod
    def of(cls, spend_idr: int, post_production_idr: int, share: float) -> _Qualifying:
        post = min(post_production_idr, spend_idr)
        other = spend_idr - post
        s = _exact(share)
        counted = post if s >= 1 else min(post, math.floor(other * s / (1 - s)))
        return cls(total=other + counted, other=other, post=post_production_idr, post_counted=counted, share=share,
                   spend=spend_idr)

    def explained(self, what: str) -> str:
        """`(other spend Rp … + post-production Rp …, which counts for at most 50% of qualifying spend)`."""
        rule = f"post-production counts for at most {_percent(self.share)} of qualifying spend"
        text = f"(other spend {rupiah(self.other)} + post-production {rupiah(self.post_counted)}"
        if self.post > self.spend:
            return text + (f": the {rupiah(self.post)} {what} post-production is more than the whole "
                           f"{rupiah(self.spend)} {what} Jakarta spend, which includes it; {rule})")
        if self.post_counted < self.post:
            return text + f" of the {rupiah(self.post)} {what}: {rule})"
        return text + f", which {rule.removeprefix('post-production ')})"


def _exact(share: float) -> Fraction:
    """The fraction written in the rule data (0.3 is 3/10 exactly, not the nearest binary float)."""
    return Fraction(str(share))


def _percent(share: float | Fraction, *, up: bool = False) -> str:
    """`0.25` → `25%`, `2/3` → `66.6%`: rounded down to a tenth (up with `up`, for a share above a maximum), so a
    share short of a minimum (or over a maximum) never shows as the limit itself."""
    exact = (share if isinstance(share, Fraction) else _exact(share)) * 1000
    tenths = math.ceil(exact) if up else math.floor(exact)
    whole, tenth = divmod(tenths, 10)
    return f"{whole}%" if tenth == 0 else f"{whole}.{tenth}%"


def _either(amounts: list[int]) -> str:
    shown = [rupiah(a) for a in amounts]
    return shown[0] if len(shown) == 1 else f"{', '.join(shown[:-1])} or {shown[-1]}"


def _moment(moment: dt.datetime) -> str:
    return moment.astimezone(JAKARTA).strftime("%Y-%m-%d %H:%M WIB (UTC+7)")
