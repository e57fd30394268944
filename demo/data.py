"""The demo content, declared once: hubs, donors, catalogue, projects, opening balances and lifecycle paths.

Plain data with no Django import, so the benchmarks (which run outside Django) read the same hub list.
States, categories, kinds and actions are the values the apps declare; ``demo/tests`` checks each one.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

DEMO_DONOR_REGISTRATION = "BE0999000111"  # marks the demo data as present
SEED = 20_240_607

HUBS = [
    # code, name, country, city
    ("BE-BRU", "Close the Gap Brussels", "BE", "Brussels"),
    ("KE-MBA", "Close the Gap Mombasa", "KE", "Mombasa"),
    ("KE-NBO", "Close the Gap Nairobi", "KE", "Nairobi"),
    ("ZA-JNB", "Close the Gap Johannesburg", "ZA", "Johannesburg"),
    ("CD-FIH", "Close the Gap Kinshasa", "CD", "Kinshasa"),
]
# What each hub is (the codes of hubs.HubKind, whose four kinds hubs' migration 0005 creates): what differs is
# data on the kind. An ITAD social enterprise sends no devices to projects; a partner-run site takes no donations
# from companies, its devices come from a hub that does (SUPPLIED_BY).
HUB_KINDS = {
    "BE-BRU": "refurbishing_hub",
    "KE-MBA": "refurbishing_hub",
    "KE-NBO": "circular_economy_hub",
    "ZA-JNB": "itad_social_enterprise",
    "CD-FIH": "partner_site",  # a joint venture
}

# The published historic totals from before the platform (1,673,488 devices received, 6,168,115 people
# reached), spread over the hubs. The per-hub figures are illustrative; the sums are the published ones.
OPENING_DEVICES_RECEIVED = {
    "BE-BRU": 1_012_340,
    "KE-MBA": 241_575,
    "KE-NBO": 198_763,
    "ZA-JNB": 142_318,
    "CD-FIH": 78_492,
}
OPENING_BENEFICIARIES = {
    "BE-BRU": 2_104_377,
    "KE-MBA": 1_336_820,
    "KE-NBO": 1_208_455,
    "ZA-JNB": 905_612,
    "CD-FIH": 612_851,
}

# Per hub that takes donations from companies: how many demo devices end in each state (60 per hub). A hub that
# sends no devices to projects keeps the ones that would have gone (allocated, shipped, delivered) configured.
STATE_PLAN = {
    "pledged": 5,
    "missing": 2,
    "received": 4,
    "sanitised": 4,
    "inspected": 4,
    "configured": 5,
    "allocated": 4,
    "shipped": 6,
    "delivered": 18,
    "to_recycle": 3,
    "recycled": 5,
}
DONATIONS_PER_HUB = 3
# The partner-run site's devices: donated to the Brussels hub, refurbished there, sent to Kinshasa in a container
# and received there, then allocated, shipped and delivered by the site to its projects (Brussels serves DR Congo).
SUPPLIED_BY = {"CD-FIH": "BE-BRU"}
SUPPLY_PLAN = {"configured": 5, "allocated": 4, "shipped": 6, "delivered": 18}
SUPPLY_CONTAINER = "MSCU 730114-8"
# How long ago each donation but the newest was pledged (the newest is pledged today, still to collect): the
# demo's history spreads over the 24 months the public chart shows.
DONATION_AGE_MONTHS = (20, 10)
# Devices per shipment: a project's devices go out a few at a time, over the months.
DEVICES_PER_SHIPMENT = 2
# One more donation at these hubs whose every device is accounted for (wiped, then reused or recycled), so its
# data sanitisation certificate is issued. The other donations still wait for devices to arrive or to be wiped:
# their certificate is pending.
CERTIFIED_DONATIONS = {
    "BE-BRU": "Demo Donor NV",
    "KE-NBO": "Demo Donor NV",
    "ZA-JNB": "Highveld Insurance (Pty) Ltd",
}
CERTIFIED_PLAN = {"delivered": 3, "configured": 2, "recycled": 1}

# category: (has storage media, [(manufacturer, model, weight kg)])
CATALOGUE = {
    "laptop": (
        True,
        [
            ("Dell", "Latitude 5490", "1.80"),
            ("Dell", "Latitude 7400", "1.40"),
            ("HP", "EliteBook 840 G5", "1.50"),
            ("Lenovo", "ThinkPad T480", "1.60"),
            ("Lenovo", "ThinkPad X280", "1.30"),
        ],
    ),
    "desktop": (
        True,
        [("HP", "EliteDesk 800 G4", "5.10"), ("Dell", "OptiPlex 7060", "5.40"), ("Lenovo", "ThinkCentre M920", "4.90")],
    ),
    "tablet": (True, [("Apple", "iPad (7th generation)", "0.48"), ("Samsung", "Galaxy Tab A", "0.47")]),
    "smartphone": (True, [("Samsung", "Galaxy A52", "0.19"), ("Apple", "iPhone 8", "0.15")]),
    "server": (True, [("Dell", "PowerEdge R640", "18.00")]),
    "monitor": (False, [("Dell", "P2419H", "3.30"), ("HP", "E24 G4", "3.20"), ("Philips", "243V7", "3.00")]),
    "networking": (False, [("Cisco", "Catalyst 2960", "3.60"), ("Ubiquiti", "UniFi AP AC Lite", "0.20")]),
    "printer": (False, [("HP", "LaserJet Pro M404", "8.60")]),
}
# Laptops and desktops dominate real donations.
CATEGORY_WEIGHTS = {
    "laptop": 45,
    "desktop": 20,
    "monitor": 15,
    "tablet": 6,
    "smartphone": 5,
    "networking": 4,
    "printer": 3,
    "server": 2,
}

DONORS = [
    # legal name, registration number, country, address, username (None: a contact without a login yet)
    ("Demo Donor NV", DEMO_DONOR_REGISTRATION, "BE", "Rue de la Loi 16, 1000 Brussels", "donor-demo"),
    ("Northsea Logistics NV", "BE0999000222", "BE", "Havenlaan 86, 1000 Brussels", None),
    ("Lakeside Bank Ltd", "KE-P051234567X", "KE", "Kenyatta Avenue 12, Nairobi", None),
    ("Coastal Telecom Ltd", "KE-P051765432Y", "KE", "Moi Avenue 7, Mombasa", None),
    ("Highveld Insurance (Pty) Ltd", "ZA2009123456", "ZA", "Main Street 44, Johannesburg", None),
]
# Each organisation's contact person and phone (illustrative numbers in each country's format).
DONOR_CONTACTS = {
    "Demo Donor NV": ("Sofie Claes", "+32 2 555 01 16"),
    "Northsea Logistics NV": ("Pieter Janssens", "+32 2 555 08 60"),
    "Lakeside Bank Ltd": ("Grace Wanjiku", "+254 20 555 0123"),
    "Coastal Telecom Ltd": ("Hassan Omar", "+254 41 555 0777"),
    "Highveld Insurance (Pty) Ltd": ("Thandi Nkosi", "+27 11 555 0144"),
}
# Which donors give to which hub, one donation each (the demo donor gives to two, so its portal shows plenty). The
# donations for a supplied hub are pledged at its supplier (SUPPLIED_BY), so the demo donor's devices also reach
# DR Congo.
DONORS_BY_HUB = {
    "BE-BRU": ["Demo Donor NV", "Northsea Logistics NV", "Demo Donor NV"],
    "KE-MBA": ["Coastal Telecom Ltd", "Lakeside Bank Ltd", "Coastal Telecom Ltd"],
    "KE-NBO": ["Lakeside Bank Ltd", "Demo Donor NV", "Lakeside Bank Ltd"],
    "ZA-JNB": ["Highveld Insurance (Pty) Ltd", "Northsea Logistics NV", "Highveld Insurance (Pty) Ltd"],
    "CD-FIH": ["Northsea Logistics NV", "Demo Donor NV", "Northsea Logistics NV"],
}

PROJECTS = {
    # hub: [(organisation, project name, kind, country, expected beneficiaries)]; the first is coordinator-demo's.
    # Brussels serves projects in DR Congo.
    "BE-BRU": [
        ("Lycée Technique de Bukavu", "Computer lab for technical studies", "education", "CD", 900),
        ("Centre de Santé Ngaliema", "Digital patient records", "medical", "CD", 4000),
    ],
    "KE-MBA": [
        ("Coast General Teaching Hospital", "Telemedicine corner", "medical", "KE", 6000),
        ("Likoni Women Entrepreneurs", "Bookkeeping for small businesses", "entrepreneurship", "KE", 350),
    ],
    "KE-NBO": [
        ("Kibera Youth Centre", "Coding club", "social", "KE", 500),
        ("Nairobi Primary School", "Digital classroom", "education", "KE", 1200),
    ],
    # Johannesburg is an ITAD social enterprise: no projects.
    "CD-FIH": [
        ("Institut Technique de Kinshasa", "E-learning for teachers", "education", "CD", 1500),
        ("Hôpital de Kintambo", "Laboratory information system", "medical", "CD", 8000),
    ],
}

COORDINATOR = "coordinator-demo"
# What every demo project asks for (approved with the project); the demo's configured laptops fit it.
PROJECT_REQUESTS = [
    {"category": "laptop", "quantity": 10, "min_ram_gb": None, "min_grade": "C", "keyboard_layout": "QWERTY US"},
]
# coordinator-demo's new application for their school in Bukavu, waiting for the review of the Brussels hub's
# manager (Brussels serves the projects in DR Congo, as for the school's first project above).
APPLICATION_HUB = "BE-BRU"
APPLICATION = {
    "organisation": "Lycée Technique de Bukavu",
    "name": "Solar-powered classroom",
    "kind": "education",
    "country": "CD",
    "place": "Bukavu",
    "expected_beneficiaries": 240,
    "requests": [
        {"category": "laptop", "quantity": 20, "min_ram_gb": 8, "min_cpu": "entry", "ssd_required": True},
        {"category": "monitor", "quantity": 4},
    ],
}


@dataclass(frozen=True)
class Step:
    """One lifecycle action a technician performs on a demo device, with the fields they would enter."""

    action: str
    fields: Mapping[str, Any] = field(default_factory=dict)
    # Wiping needs something to wipe: devices without storage media go straight to inspection.
    storage_media_only: bool = False
    # A passed inspection grades the device; the grade is drawn from GRADES.
    draws_grade: bool = False


GRADES = ["A", "B", "B", "C"]
RECEIVE = Step("receive")
MARK_MISSING = Step("mark_missing", {"note": "Not in the pickup; donor informed."})
SANITISE = Step(
    "sanitise",
    {
        "method": "purge",
        "technique": "NVMe Format / ATA Secure Erase with verification",
        "tool": "Blancco Drive Eraser",
        "tool_version": "7.9",
        "verification": "full",
        "verified": True,
    },
    storage_media_only=True,
)
INSPECT_PASS = Step("inspect", {"passed": True}, draws_grade=True)
INSPECT_FAIL = Step("inspect", {"passed": False, "notes": "Mainboard fault; not economical to repair."})
CONFIGURE = Step(
    "configure",
    {"operating_system": "Ubuntu", "os_version": "24.04 LTS", "keyboard_layout": "US", "language": "English"},
)
RECYCLE = Step("recycle")  # at the weight on the device record

# The technician's steps from pledged to each end state. Allocation, shipping and delivery then go through the
# projects' services, a shipment per project and stage.
PATHS = {
    "pledged": [],
    "missing": [MARK_MISSING],
    "received": [RECEIVE],
    "sanitised": [RECEIVE, SANITISE],
    "inspected": [RECEIVE, SANITISE, INSPECT_PASS],
    "configured": [RECEIVE, SANITISE, INSPECT_PASS, CONFIGURE],
    "allocated": [RECEIVE, SANITISE, INSPECT_PASS, CONFIGURE],
    "shipped": [RECEIVE, SANITISE, INSPECT_PASS, CONFIGURE],
    "delivered": [RECEIVE, SANITISE, INSPECT_PASS, CONFIGURE],
    "to_recycle": [RECEIVE, SANITISE, INSPECT_FAIL],
    "recycled": [RECEIVE, SANITISE, INSPECT_FAIL, RECYCLE],
}
# People reached per delivered device, drawn per delivered shipment.
BENEFICIARIES_PER_DEVICE = (15, 60)

# A refurbishment partner acting for a hub (issue 18): its account, and how many of the hub's received devices
# with storage media its open work order holds.
PARTNER_NAME = "Flection Refurbishment Services"
PARTNER_USERNAME = "partner-flection"
PARTNER_HUB = "BE-BRU"
PARTNER_DEVICES = 6
