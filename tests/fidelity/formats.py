"""The three formats the hub pulls, written from listings: the shapes tests/partners/ serves.

- the API Engagement XML feed (`<source>` of `<mission>`, docs/partners.md);
- Idealist's listings API (`{"volop": {...}}` details behind a since-cursor list);
- VolunteerMatch's GraphQL `Opportunity` objects.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from tests.fidelity.publish import Listing
from tests.fidelity.wording import hours_sentence

__all__ = ["idealist_volop", "volunteermatch_opportunity", "xml_mission"]


def _cdata(value: object) -> str:
    return f"<![CDATA[{value}]]>"


def _description(listing: Listing, html: bool) -> str:
    mission = listing.mission
    template = mission.template
    english = mission.org.english
    if english:
        where = (
            "Remote, from anywhere." if mission.commune is None else f"In {mission.commune.name}."
        )
        who = f"A mission of {listing.org_name}. {where}"
    else:
        where = f"à {mission.commune.name}" if mission.commune else "à distance"
        who = f"Mission proposée par {listing.org_name}, {where}."
    sentences = [template.blurb, who]
    if listing.hours_in_description and template.hours:
        sentences.append(hours_sentence(template.hours, english))
    if not html:
        return " ".join(sentences)
    skills = "".join(f"<li>{skill}</li>" for skill in template.skills)
    return "".join(f"<p>{s}</p>" for s in sentences) + f"<ul>{skills}</ul>"


def xml_mission(listing: Listing) -> str:
    """One `<mission>` of a French partner's feed."""
    mission = listing.mission
    lines = [f"<clientId>{listing.external_id}</clientId>"]
    lines.append(f"<title>{_cdata('' if listing.defect == 'no-title' else listing.title)}</title>")
    lines += [
        f"<description>{_cdata(_description(listing, html=True))}</description>",
        f"<applicationUrl>https://reseau-solidaire.example/missions/{listing.external_id}"
        "</applicationUrl>",
        f"<postedAt>{mission.posted.isoformat()}</postedAt>",
        f"<startAt>{'31/06/2027' if listing.defect == 'impossible-date' else listing.start}"
        "</startAt>",
    ]
    if listing.end:
        lines.append(f"<endAt>{listing.end}</endAt>")
    lines += ["<type>benevolat</type>", f"<domain>{_cdata(listing.causes[0])}</domain>"]
    skills = mission.template.skills
    lines.append(f"<activity>{_cdata(skills[0])}</activity>")
    if len(skills) > 1:
        lines.append(f"<softSkills>{_cdata(','.join(skills[1:]))}</softSkills>")
    if listing.remote:
        lines.append(f"<remote>{listing.remote}</remote>")
    if listing.schedule:
        lines.append(f"<schedule>{_cdata(listing.schedule)}</schedule>")
    lines.append(f"<places>{mission.places}</places>")
    lines.append(f"<organizationName>{_cdata(listing.org_name)}</organizationName>")
    if listing.rna:
        lines.append(f"<organizationRNA>{listing.rna}</organizationRNA>")
    if listing.siren:
        lines.append(f"<organizationSiren>{listing.siren}</organizationSiren>")
    if listing.address is not None:
        place = listing.address
        point = (
            f"<location><lat>{place.latitude}</lat><lon>{place.longitude}</lon></location>"
            if listing.with_point
            else ""
        )
        lines.append(
            f"<addresses><address><street>{_cdata(listing.street)}</street>"
            f"<postalCode>{listing.postal_code}</postalCode><city>{_cdata(listing.city)}</city>"
            f"<departmentCode>{place.department}</departmentCode><country>France</country>"
            f"{point}</address></addresses>"
        )
    body = "".join(f"\n    {line}" for line in lines)
    return f"  <mission>{body}\n  </mission>\n"


def idealist_volop(listing: Listing, updated: datetime) -> dict[str, Any]:
    """One listing's details, as GET /listings/volops/{id} answers them (inside "volop")."""
    mission, org = listing.mission, listing.mission.org
    url = f"https://www.idealist.example/en/volunteer-opportunity/{listing.external_id}"
    address = None
    if listing.address is not None:
        place = listing.address
        address = {
            "full": f"{listing.street}, {place.postal_code} {listing.city}, France",
            "line1": listing.street,
            "line2": None,
            "city": listing.city,
            "state": place.region,
            "zipcode": listing.postal_code,
            "country": "FR",
            "latitude": place.latitude if listing.with_point else None,
            "longitude": place.longitude if listing.with_point else None,
        }
    volop: dict[str, Any] = {
        "id": listing.external_id,
        "name": listing.title,
        "description": _description(listing, html=True),
        "url": {"en": url},
        "applyUrl": url + "/apply",
        "org": {
            "id": listing.ids.idealist_id,
            "name": listing.org_name,
            "url": {"en": f"https://{org.key}.example.org"},
            "logo": None,
            "governmentId": listing.government_id,
        },
        "address": address,
        "locationType": listing.remote,
        "areasOfFocus": listing.causes,
        "functions": list(mission.template.skills),
        "expectedTime": listing.schedule,
        "numVolunteersNeeded": mission.places,
        "startDate": listing.start,
        "endDate": listing.end,
        "firstPublished": datetime.combine(mission.posted, time(8, 0)).strftime(
            "%Y-%m-%dT%H:%M:%SZ"
        ),
        "updated": updated.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "isPublished": True,
    }
    if listing.defect == "no-name":
        del volop["name"]
    if listing.defect == "impossible-date":
        volop["startDate"] = "2027-02-30T09:00:00Z"
    return volop


def volunteermatch_opportunity(listing: Listing) -> dict[str, Any]:
    """One `Opportunity` of VolunteerMatch's GraphQL API."""
    mission, org = listing.mission, listing.mission.org
    location = None
    if listing.address is not None:
        place = listing.address
        point = {"lat": place.latitude, "lon": place.longitude} if listing.with_point else None
        location = {
            "street1": listing.street,
            "street2": None,
            "city": listing.city,
            "region": place.region,
            "postalCode": listing.postal_code,
            "country": "FR",
            "geoLocation": point,
        }
    one_day = mission.end is not None and mission.end - mission.start < timedelta(days=1)
    return {
        "id": listing.external_id,
        "title": None if listing.defect == "no-title" else listing.title,
        "description": _description(listing, html=True),
        "plaintextDescription": _description(listing, html=False),
        "url": f"https://www.volunteermatch.example/opp{listing.external_id}.jsp",
        "virtual": listing.remote == "virtual",
        "volunteersNeeded": mission.places,
        "categories": listing.causes,
        "skillsNeeded": ", ".join(mission.template.skills),
        "greatFor": ["Groups"] if mission.places > 5 else ["Seniors", "People 55+"],
        "datePosted": "13/45/2026"
        if listing.defect == "impossible-date"
        else mission.posted.strftime("%m/%d/%Y"),
        "availability": {
            "startDate": listing.start,
            "endDate": listing.end,
            "ongoing": mission.end is None,
            "singleDayOpportunity": one_day,
        },
        "location": location,
        "parentOrg": {
            "id": listing.ids.volunteermatch_id,
            "name": listing.org_name,
            "url": f"https://{org.key}.example.org",
        },
    }
