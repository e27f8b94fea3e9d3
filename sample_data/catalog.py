"""The vocabulary the sample generator draws from: applications, teams, people, titles."""

# code, name, portfolio, owner team, criticality, non-prod timezone, release gap (days)
APPLICATIONS = [
    ("PGW", "Payments Gateway", "Payments", "Payments Platform", "critical",
     "Europe/London", 14),
    ("CAU", "Card Authorisation", "Payments", "Card Services", "critical",
     "Europe/Berlin", 60),
    ("FRS", "Fraud Screening", "Payments", "Card Services", "high",
     "Europe/Berlin", 30),
    ("MON", "Merchant Onboarding", "Payments", "Payments Platform", "medium",
     "UTC", 91),
    ("STL", "Settlement Engine", "Payments", "Payments Platform", "high",
     "UTC", 91),
    ("PRP", "Payments Reporting", "Payments", "Payments Platform", "low",
     "UTC", 91),
    ("CPT", "Customer Portal", "Digital Channels", "Digital Web", "high",
     "UTC", 7),
    ("MBA", "Mobile Banking App", "Digital Channels", "Mobile Squad", "critical",
     "UTC", 21),
    ("AOP", "Online Account Opening", "Digital Channels", "Digital Web", "high",
     "UTC", 45),
    ("NTF", "Notifications Hub", "Digital Channels", "Customer Comms", "medium",
     "UTC", 60),
    ("CMS", "Content Management", "Digital Channels", "Digital Web", "low",
     "UTC", 91),
    ("CHB", "Chatbot Assistant", "Digital Channels", "Customer Comms", "low",
     "UTC", 91),
    ("CBL", "Core Banking Ledger", "Core Banking", "Core Ledger", "critical",
     "Europe/London", 91),
    ("LOR", "Loan Origination", "Core Banking", "Lending Tech", "high",
     "Europe/London", 60),
    ("DEP", "Deposits Engine", "Core Banking", "Core Ledger", "high",
     "Europe/London", 91),
    ("CMD", "Customer Master Data", "Core Banking", "Customer Data", "high",
     "UTC", 91),
    ("INT", "Interest Calculation", "Core Banking", "Core Ledger", "medium",
     "UTC", 182),
    ("STM", "Statements Generator", "Core Banking", "Customer Data", "medium",
     "Europe/London", 91),
    ("HRS", "HR Self Service", "Corporate Systems", "Enterprise Apps", "low",
     "UTC", 182),
    ("FGL", "Finance General Ledger", "Corporate Systems", "Enterprise Apps",
     "high", "UTC", 91),
    ("PRC", "Procurement Portal", "Corporate Systems", "Enterprise Apps",
     "medium", "UTC", 182),
    ("DMS", "Document Management", "Corporate Systems", "Workplace Tech",
     "medium", "UTC", 91),
    ("IAM", "Identity & Access Management", "Corporate Systems",
     "Identity Services", "critical", "UTC", 30),
    ("COL", "Email & Collaboration", "Corporate Systems", "Workplace Tech",
     "medium", "UTC", 91),
    ("DWH", "Enterprise Data Warehouse", "Risk & Data", "Data Platform", "high",
     "UTC", 60),
    ("RRP", "Regulatory Reporting", "Risk & Data", "Risk Tech", "critical",
     "UTC", 91),
    ("AML", "AML Transaction Monitoring", "Risk & Data", "Risk Tech", "high",
     "UTC", 91),
    ("CRE", "Credit Risk Engine", "Risk & Data", "Risk Tech", "high",
     "America/New_York", 91),
    ("MDF", "Market Data Feed", "Risk & Data", "Data Platform", "medium",
     "America/New_York", 45),
    ("CAN", "Customer Analytics", "Risk & Data", "Data Platform", "low",
     "UTC", 60),
]

PORTFOLIOS = ["Payments", "Digital Channels", "Core Banking", "Corporate Systems",
              "Risk & Data"]
# portfolios that bundle their quarterly project releases into enterprise releases
ENTERPRISE_PORTFOLIOS = ["Payments", "Core Banking"]

CRITICALITY = ["low", "medium", "high", "critical"]
TIERS = ["dev", "test", "sit", "uat", "perf", "staging", "prod", "dr", "other"]
TIER_CODE = {"dev": "DEV", "test": "TST", "sit": "SIT", "uat": "UAT",
             "perf": "PRF", "staging": "STG", "prod": "PRD", "dr": "DR",
             "other": "OTH"}
# tiers an application's own chain has, by criticality; (tier, probability)
CHAIN = {
    "critical": [("dev", 1), ("test", .5), ("sit", 1), ("uat", 1), ("perf", 1),
                 ("staging", 1), ("prod", 1), ("dr", 1)],
    "high": [("dev", 1), ("sit", 1), ("uat", 1), ("perf", .4), ("staging", 1),
             ("prod", 1), ("dr", .3)],
    "medium": [("dev", 1), ("sit", 1), ("uat", 1), ("prod", 1)],
    "low": [("dev", 1), ("uat", 1), ("prod", 1)],
}
# environments shared by every application of a region:
# name, tier, group, capacity, timezone, availability, booking weight
SHARED_ENVIRONMENTS = [
    ("Shared SIT 1", "sit", "Shared Test Lab", 2, "UTC", "always", 8),
    ("Shared SIT 2", "sit", "Shared Test Lab", 1, "UTC", "always", 4),
    ("Integration Hub SIT", "sit", "Integration Hub", 1, "Europe/Berlin",
     "always", 4),
    ("Shared UAT", "uat", "Shared Test Lab", 2, "Europe/London",
     "business_hours", 5),
    ("Performance Lab A", "perf", "Performance Lab", 1, "UTC", "always", 7),
    ("Performance Lab B", "perf", "Performance Lab", 1, "America/New_York",
     "always", 2),
    ("Shared Staging", "staging", "Shared Test Lab", 1, "UTC", "always", 3),
    ("Mainframe Test LPAR", "test", "Mainframe", 1, "Europe/London",
     "business_hours", 3),
    ("Training", "other", "Training", 2, "Europe/London", "business_hours", 2),
    ("DR Rehearsal", "dr", "Resilience", 1, "UTC", "always", 1),
]
# further copies of the estate, one per region, when the scale asks for more
REGIONS = [("EU", "Europe/Berlin"), ("US", "America/New_York"),
           ("UK", "Europe/London"), ("APAC", "Asia/Singapore"),
           ("DE", "Europe/Berlin"), ("NL", "Europe/Amsterdam"),
           ("FR", "Europe/Paris"), ("Nordics", "Europe/Stockholm"),
           ("LATAM", "America/Sao_Paulo"), ("CA", "America/Toronto"),
           ("IE", "Europe/Dublin"), ("ES", "Europe/Madrid"),
           ("IT", "Europe/Rome"), ("PL", "Europe/Warsaw"),
           ("ME", "Asia/Dubai"), ("IN", "Asia/Kolkata"),
           ("JP", "Asia/Tokyo"), ("AU", "Australia/Sydney")]

# assignment group -> (failure multiplier in the first year, in the last year,
# weight of standard changes, weight of emergency changes); a multiplier that
# falls is a team improving, like Mobile Squad after its CI/CD rebuild
TEAMS = {
    "Payments Platform": (1.0, 0.9, 1.0, 1.0),
    "Card Services": (1.3, 1.2, 0.8, 1.4),
    "Digital Web": (1.0, 1.0, 1.5, 0.8),
    "Mobile Squad": (3.0, 0.5, 1.1, 1.3),
    "Customer Comms": (0.8, 0.8, 1.2, 0.7),
    "Core Ledger": (1.5, 1.5, 0.6, 1.2),
    "Lending Tech": (2.6, 0.6, 0.9, 1.1),
    "Customer Data": (1.0, 1.0, 0.9, 0.8),
    "Enterprise Apps": (0.9, 0.9, 0.9, 0.6),
    "Identity Services": (1.2, 1.1, 1.0, 1.5),
    "Workplace Tech": (0.7, 0.7, 1.3, 0.8),
    "Data Platform": (1.2, 1.9, 1.0, 1.2),
    "Risk Tech": (1.1, 1.1, 0.8, 0.9),
}
# infrastructure assignment groups serve every application
INFRA_TEAMS = {
    "Network Operations": (0.8, 0.8, 1.6, 1.0),
    "Database Administration": (1.0, 1.0, 1.1, 0.9),
    "Cloud Platform": (2.2, 0.5, 1.4, 1.0),
    "Middleware Support": (1.3, 1.3, 1.0, 1.0),
    "Security Operations": (0.6, 0.6, 0.9, 2.2),
}
# infra team -> (categories, CI components) it works on
INFRA_WORK = {
    "Network Operations": (["Network", "Network", "Hardware"], ["lb", "fw"]),
    "Database Administration": (["Database"], ["db"]),
    "Cloud Platform": (["Infrastructure", "Infrastructure", "Hardware"],
                       ["k8s", "vm", "app"]),
    "Middleware Support": (["Software", "Configuration"], ["mq", "esb", "app"]),
    "Security Operations": (["Security"], ["web", "api", "app"]),
}
APP_CATEGORIES = (["Software", "Configuration", "Database", "Security", "Other"],
                  [0.5, 0.28, 0.1, 0.06, 0.06])
# CI components; incidents pick among the first seven (application tiers)
COMPONENTS = ["web", "api", "app", "db", "batch", "mq", "cache", "lb", "fw", "k8s",
              "vm", "esb"]

# teams that book environments without a release, and what for
BOOKING_PURPOSES = {
    "sit": ("regression", "Test Automation"),
    "test": ("regression", "Test Automation"),
    "uat": ("business_acceptance", None),  # None: the owner team
    "perf": ("performance_test", "Performance Engineering"),
    "staging": ("dress_rehearsal", "Release Management"),
    "other": ("training", "Training Team"),
    "dr": ("dr_rehearsal", "Resilience Engineering"),
}

FIRST_NAMES = [
    "Aisha", "Ben", "Carmen", "Daniel", "Elena", "Farid", "Grace", "Hiro",
    "Ingrid", "James", "Kavya", "Liam", "Mei", "Noah", "Olu", "Priya",
    "Quentin", "Rosa", "Sam", "Tariq", "Uma", "Victor", "Wen", "Xavier",
    "Yasmin", "Zoe", "Amara", "Bruno", "Chloe", "Dmitri", "Emeka", "Fatima",
    "Gustav", "Hannah", "Ivan", "Julia", "Kofi", "Lucia", "Marek", "Nadia",
    "Oscar", "Paula", "Rahul", "Sofia", "Tom", "Valentina", "Will", "Yusuf",
]
LAST_NAMES = [
    "Ahmed", "Baker", "Chen", "Dubois", "Evans", "Fischer", "Garcia", "Hughes",
    "Ibrahim", "Jensen", "Kowalski", "Lopez", "Murphy", "Nakamura", "Okafor",
    "Patel", "Quinn", "Rossi", "Schmidt", "Tanaka", "Usman", "Varga", "Walsh",
    "Yilmaz", "Zhang", "Andersson", "Bianchi", "Costa", "Davies", "Eriksen",
    "Fernandes", "Gupta", "Horvat", "Iyer", "Kim", "Larsen", "Moreau", "Novak",
    "O'Brien", "Shah",
]

# change titles by category; {app} and {ci} are filled in
CHANGE_TITLES = {
    "Software": [
        "Deploy {app} hotfix to production",
        "Upgrade application runtime on {ci}",
        "Apply vendor patch to {app}",
        "Enable feature flag for {app} customer journey",
        "Update third-party libraries in {app}",
        "Restart {ci} to apply memory leak fix",
    ],
    "Configuration": [
        "Update {app} configuration parameters",
        "Change batch schedule for {app}",
        "Increase connection pool size on {ci}",
        "Update routing rules for {app}",
        "Rotate TLS certificate on {ci}",
        "Adjust log retention on {ci}",
    ],
    "Database": [
        "Rebuild indexes on {ci}",
        "Apply database patch to {ci}",
        "Add table partitions on {ci}",
        "Tune database parameters on {ci}",
        "Archive historical data from {ci}",
    ],
    "Network": [
        "Firewall rule change for {app}",
        "Update load balancer pool for {ci}",
        "Update DNS records for {app}",
        "Upgrade switch firmware in {app} network zone",
        "Open firewall port for {app} integration",
    ],
    "Infrastructure": [
        "Monthly OS patching of {ci}",
        "Resize virtual machine {ci}",
        "Upgrade Kubernetes node pool for {app}",
        "Expand storage for {ci}",
        "Replace failed disk on {ci}",
    ],
    "Hardware": [
        "Replace power supply on {ci}",
        "Memory upgrade on {ci}",
        "Firmware update on {ci}",
    ],
    "Security": [
        "Apply critical security patch to {ci}",
        "Rotate service account credentials for {app}",
        "Update WAF rules for {app}",
        "Enforce MFA for {app} admin users",
        "Remediate vulnerability scan findings on {ci}",
    ],
    "Other": [
        "Decommission unused jobs for {app}",
        "Update monitoring thresholds for {app}",
        "Onboard {app} to central logging",
    ],
}
RELEASE_CHANGE_TITLES = {
    "main": "Deploy {app} {version} to production",
    "redo": "Re-deploy {app} {version} to production (second attempt)",
}
# changes that accompany a release cutover: title, category, assignment group
# (None: the application's owner team), CI component; relative weight
COMPANION_CHANGES = [
    ("Database schema migration for {app} {version}", "Database",
     "Database Administration", "db", 5),
    ("Production configuration update for {app} {version}", "Configuration",
     None, "app", 4),
    ("Firewall rules for {app} {version}", "Network", "Network Operations", "fw", 2),
]

INCIDENT_TITLES = [
    "{app}: elevated error rate",
    "{app}: users unable to log in",
    "{app}: slow response times",
    "{app}: overnight batch job failed",
    "{app}: service unavailable",
    "{app}: data not refreshed",
    "{app}: intermittent timeouts",
    "{app}: integration messages stuck in queue",
    "{app}: disk space alert on {ci}",
    "{app}: certificate expiry warning on {ci}",
]
# titles of incidents caused by a change or deployment
CHANGE_INCIDENT_TITLES = [
    "{app}: errors after deployment",
    "{app}: service degraded after change",
    "{app}: failed transactions after release",
    "{app}: outage during maintenance",
    "{app}: functionality broken after update",
]
