"""The demo world: Tillwise's staff, teams, paths, categories, customers and their conversations."""

from __future__ import annotations

from collections import defaultdict

from customers.models import CustomerTier
from tickets.demo.shapes import (
    DAY,
    HOUR,
    MINUTE,
    DemoCategory,
    DemoCustomer,
    DemoPath,
    DemoPromise,
    DemoTicket,
    DemoUser,
    StaffRole,
    assign,
    call,
    close,
    customer_reopens,
    customer_says,
    note,
    reply,
    resolve,
    wait,
)
from tickets.models import (
    Channel,
    Priority,
)

# --- The demo world ----------------------------------------------------------------------------

SUPERVISOR = "grace"
TEAM_NAMES = ("Front Desk", "Billing", "Technical")

DEMO_USERS: tuple[DemoUser, ...] = (
    DemoUser("admin", "Ada", "Lindqvist", StaffRole.ADMIN, "admin-demo"),
    DemoUser("priya", "Priya", "Raman", StaffRole.AGENT, "priya-demo", team="Front Desk"),
    DemoUser("tom", "Tom", "Becker", StaffRole.AGENT, "tom-demo", team="Billing"),
    # Technical is level 2 and 3 of the paths: someone must be there to take escalated tickets.
    DemoUser("sam", "Samuel", "Okafor", StaffRole.AGENT, "sam-demo", team="Technical"),
    DemoUser(SUPERVISOR, "Grace", "Mensah", StaffRole.SUPERVISOR, "grace-demo"),
)

DEMO_PATHS: tuple[DemoPath, ...] = (
    DemoPath(
        "Billing",
        "Money questions start at the billing desk; faults in the payment system go to engineering.",
        (("Billing desk", "Billing"), ("Payments engineering", "Technical")),
    ),
    DemoPath(
        "Standard",
        "Everything else: the front desk answers most of it; what it cannot fix climbs to technical support, "
        "then to the engineer on call.",
        (("Front desk", "Front Desk"), ("Technical support", "Technical"), ("Engineering on call", "Technical")),
    ),
)

DEMO_CATEGORIES: tuple[DemoCategory, ...] = (
    DemoCategory(
        "Billing & payments",
        "billing",
        "Charges, invoices, payouts, chargebacks and payment methods.",
        Priority.NORMAL,
        "Billing",
        DAY,
    ),
    DemoCategory(
        "Refunds & cancellations",
        "refunds",
        "Refunds, returning hardware and ending a subscription.",
        Priority.NORMAL,
        "Billing",
        2 * DAY,
    ),
    DemoCategory(
        "Orders & delivery",
        "orders",
        "Hardware orders, delivery dates, wrong or damaged items.",
        Priority.NORMAL,
        "Standard",
        DAY,
    ),
    DemoCategory(
        "Account & sign-in",
        "account",
        "Signing in, passwords, staff logins, data exports and closing an account.",
        Priority.HIGH,
        "Standard",
        4 * HOUR,
        warn_min=10 * MINUTE,
    ),
    DemoCategory(
        "Technical problem",
        "technical",
        "Tills, card readers, printers, reports, the API and integrations, and how-to questions.",
        Priority.HIGH,
        "Standard",
        8 * HOUR,
        warn_min=15 * MINUTE,
    ),
)

Tier = CustomerTier
# fmt: off
DEMO_CUSTOMERS: tuple[DemoCustomer, ...] = (
    DemoCustomer(
        "Amara Okonkwo", "amara@okonkwo-pharmacy.example", "Okonkwo Pharmacy", Tier.PRIORITY, time_zone="Europe/London"
    ),
    DemoCustomer("Lukas Schneider", "lukas.schneider@mail.example", "Bäckerei Schneider", time_zone="Europe/Berlin"),
    DemoCustomer(
        "Hannah Whitfield", "hannah@whitfield-flowers.example", "Whitfield Flowers", phone="+44 20 7946 0321",
        time_zone="Europe/London",
    ),
    DemoCustomer(
        "Derek Hollis", "derek.hollis@mail.example", "Hollis Hardware", phone="+1 312 555 0147",
        time_zone="America/Chicago", notes="Closing his store; cancelled. His refund went wrong: see his ticket.",
    ),
    DemoCustomer(
        "Sofia Marino-Keller", "sofia@trattoria-marino.example", "Trattoria Marino", Tier.PRIORITY,
        time_zone="Europe/Rome", notes="Customer since the first pilot. Two sites in Milan, a third opening soon.",
    ),
    DemoCustomer("Kenji Nakamura", "kenji@nakamura-ramen.example", "Nakamura Ramen", preferred_name="Ken"),
    DemoCustomer(
        "Isabel Fernández", "isabel.fernandez@lumen-retail.example", "Lumen Retail Group", Tier.ENTERPRISE,
        phone="+34 910 555 218", time_zone="Europe/Madrid",
        notes="Enterprise contract, 42 stores. Isabel is their technical contact for the API.",
    ),
    DemoCustomer("Oluwaseun Adeyemi", "seun@adeyemi-styles.example", "Adeyemi Styles", preferred_name="Seun"),
    DemoCustomer(
        "Margaret O'Brien", "peggy.obrien@mail.example", "O'Brien's Corner Shop", preferred_name="Peggy",
        phone="+353 1 555 0192", time_zone="Europe/Dublin", notes="Prefers a phone call to email.",
    ),
    DemoCustomer("Rahul Mehta", "rahul@mehta-electronics.example", "Mehta Electronics", Tier.PRIORITY),
    DemoCustomer("Chloé Dubois", "chloe.dubois@mail.example", "Atelier Chloé", time_zone="Europe/Paris"),
    DemoCustomer("Mateus Oliveira", "mateus@cafe-aurora.example", "Café Aurora", time_zone="America/Sao_Paulo"),
    DemoCustomer(
        "Aisha Rahman", "aisha.rahman@greenleaf-grocers.example", "Greenleaf Grocers", Tier.PRIORITY,
        phone="+44 161 496 0733",
    ),
    DemoCustomer("Jonas Berg", "jonas@berg-bikes.example", "Berg Bikes", time_zone="Europe/Stockholm"),
    DemoCustomer("Emily Carter", "emily@carters-bakery.example", "Carter's Bakery"),
    DemoCustomer("Wei Zhang", "wei.zhang@jade-garden.example", "Jade Garden"),
    DemoCustomer("Fatima Al-Sayed", "fatima@alsayed-textiles.example", "Al-Sayed Textiles", time_zone="Asia/Dubai"),
    DemoCustomer("Patrick Nguyen", "patrick.nguyen@mail.example", "Pho Corner", time_zone="Australia/Sydney"),
    DemoCustomer("Ingrid Johansson", "ingrid@nordic-knits.example", "Nordic Knits", time_zone="Europe/Oslo"),
    DemoCustomer("Carlos Mendoza", "carlos@mendoza-tacos.example", "Mendoza Tacos", time_zone="America/Mexico_City"),
    DemoCustomer("Zanele Dlamini", "zanele@ubuntu-books.example", "Ubuntu Books", time_zone="Africa/Johannesburg"),
    DemoCustomer(
        "Tomasz Kowalski", "tomasz@kowalski-software.example", "Kowalski Software", Tier.PRIORITY,
        time_zone="Europe/Warsaw", notes="Agency building integrations for several of our customers.",
    ),
    DemoCustomer("Eleanor Price", "eleanor@price-interiors.example", "Price & Co. Interiors"),
    DemoCustomer("Yusuf Demir", "yusuf@demir-kebab.example", "Demir Kebab House", time_zone="Europe/Istanbul"),
    DemoCustomer("Anna Nováková", "anna.novakova@mail.example", "Galerie Nováková", time_zone="Europe/Prague"),
    DemoCustomer("Samuel Osei", "sam@osei-coffee.example", "Osei Coffee Roasters", preferred_name="Sam"),
    DemoCustomer(
        "Linh Tran", "linh@lotus-nails.example", "Lotus Nails", phone="+1 415 555 0186", time_zone="America/Los_Angeles"
    ),
    DemoCustomer("Riya Kapoor", "riya@spice-route.example", "Spice Route"),
    DemoCustomer("Giulia Ricci", "giulia@gelateria-ricci.example", "Gelateria Ricci", time_zone="Europe/Rome"),
    DemoCustomer("Pierre Lambert", "pierre@lambert-vins.example", "Lambert Vins", time_zone="Europe/Paris"),
    DemoCustomer("Mei Tanaka", "mei@tanaka-tea.example", "Tanaka Tea House"),
    DemoCustomer("Daniel Cohen", "daniel@cohens-deli.example", "Cohen's Deli", time_zone="America/New_York"),
    DemoCustomer("Nadia Petrova", "nadia@petrova-beauty.example", "Petrova Beauty", time_zone="Europe/Sofia"),
    DemoCustomer("Kwame Asante", "kwame.asante@mail.example", phone="+44 7700 900461"),
    DemoCustomer(
        "Olivia Bennett", "liv@bennett-surf.example", "Bennett Surf Co.", preferred_name="Liv",
        time_zone="Europe/London",
    ),
    DemoCustomer("Arjun Singh", "arjun.singh@mail.example"),
    DemoCustomer("Elena Popescu", "elena@patiseria-popescu.example", "Patiseria Popescu", time_zone="Europe/Bucharest"),
    DemoCustomer(
        "Benjamin Adler", "ben.adler@adler-optics.example", "Adler Optics", Tier.ENTERPRISE, preferred_name="Ben",
        time_zone="Europe/Vienna", notes="Enterprise: 12 stores. Rolling out single sign-on this quarter.",
    ),
    DemoCustomer("Mohammed Haddad", "mohammed@haddad-barbers.example", "Haddad Barbers"),
    DemoCustomer("Lucy Fraser", "lucy@fraser-yarns.example", time_zone="Europe/London"),
)
# fmt: on

CLOSED_QUIETLY = "Closed automatically: resolved a week ago with no reply."

DEMO_TICKETS: tuple[DemoTicket, ...] = (
    # --- Amara: charged twice (resolved), and an older receipt question (closed).
    DemoTicket(
        "amara@okonkwo-pharmacy.example",
        "Charged twice for this month's subscription",
        "billing",
        9 * DAY,
        "Hello, I've just checked our business account and you have taken £49.00 twice on the 3rd: two lines, "
        "same reference ending 7781. We only have one subscription. Please refund the extra payment.\n\n"
        "Amara Okonkwo, Okonkwo Pharmacy",
        (
            assign(20 * MINUTE),
            reply(
                40 * MINUTE,
                "Hi Amara, thank you for flagging this, and I'm sorry for the worry. I can see two payments of £49.00 "
                "on the 3rd. So that I refund the right one, could you send a screenshot of the two lines on your "
                "statement? Feel free to hide everything except the dates, amounts and reference.",
            ),
            wait(MINUTE, "Asked for a statement screenshot."),
            customer_says(5 * HOUR, "Screenshot attached. Both lines say TILLWISE*SUB 7781."),
            note(HOUR, "Payment provider shows a retry after a timeout on the 3rd: both captures settled."),
            reply(
                10 * MINUTE,
                "Thanks Amara, that confirmed it: our payment provider retried a payment that had already gone "
                "through. I've refunded the duplicate £49.00 today; it normally reaches your statement within "
                "5 to 10 working days. I'm sorry for the trouble.",
            ),
            resolve(2 * MINUTE, "Refunded the duplicate £49.00 from the 3rd, caused by a payment retry on our side."),
        ),
        channel=Channel.EMAIL,
        promise=DemoPromise(HOUR, DAY, "The duplicate charge will be refunded by tomorrow."),
    ),
    DemoTicket(
        "amara@okonkwo-pharmacy.example",
        "Receipts still show our old address",
        "account",
        38 * DAY,
        "We moved the pharmacy to 14 Rye Lane last month. I changed the address in Settings but the printed "
        "receipts still show the old one.",
        (
            assign(HOUR),
            reply(
                30 * MINUTE,
                "Hi Amara, receipts take their address from the till profile rather than from your account "
                "settings. Go to Settings → Tills → Receipt, update the address, then tap 'Sync now' on the till.",
            ),
            customer_says(3 * HOUR, "That worked, thank you!"),
            resolve(10 * MINUTE, "The receipt address lives in the till profile; updated and synced."),
            close(7 * DAY, CLOSED_QUIETLY),
        ),
    ),
    # --- Lukas: the password reset loop (open).
    DemoTicket(
        "lukas.schneider@mail.example",
        "Password reset link sends me back to the sign-in page",
        "account",
        2 * DAY,
        "Guten Tag, I cannot sign in. I click 'Forgot password', get the email, click the link, and it just shows "
        "the sign-in page again. I have tried five times. The bakery opens at 6 and I need yesterday's report.",
        (
            assign(25 * MINUTE),
            reply(
                20 * MINUTE,
                "Hallo Lukas, sorry you're stuck. Two things usually cause this: an older link (each new request "
                "cancels the earlier ones, so use only the latest email) or a browser blocking cookies for our "
                "site. Could you request one new link and open it in a private window?",
            ),
            customer_says(
                3 * HOUR,
                "Private window, newest link, same thing. I also tried on my phone. It loops back to sign-in every "
                "time.",
            ),
            note(
                30 * MINUTE,
                "Reproduced with his email: the reset works, but the account has 'single sign-on required' set, "
                "left over from a trial. Asked Technical to clear it.",
            ),
            reply(
                15 * MINUTE,
                "Thanks Lukas, that helped: I can reproduce it. Your account is set to require single sign-on, so "
                "after the reset you're sent back to the sign-in page. Our technical team is removing that setting "
                "and I'll write the moment it's done. Meanwhile, the daily report is also emailed to the shop "
                "address at 6:00.",
            ),
        ),
    ),
    # --- Hannah: a late delivery (waiting on her).
    DemoTicket(
        "hannah@whitfield-flowers.example",
        "Card reader order TW-48213 hasn't arrived",
        "orders",
        6 * DAY,
        "Hi, I ordered two card readers on the 2nd (order TW-48213) with next-day delivery. It's been four days and "
        "the tracking page still says 'label created'. We have a wedding fair on Saturday and need them.",
        (
            assign(2 * HOUR),
            reply(
                30 * MINUTE,
                "Hi Hannah, I'm sorry, that's not the next-day delivery you paid for. I've chased the courier: the "
                "parcel is held at their Croydon depot because the label is missing a unit number. Could you confirm "
                "your full address, including the unit, so they can deliver tomorrow? I've refunded the delivery fee.",
            ),
            wait(MINUTE, "Waiting for the unit number; the courier holds the parcel until then."),
        ),
        channel=Channel.EMAIL,
        promise=DemoPromise(
            2 * HOUR + 20 * MINUTE,
            2 * DAY,
            "You'll have the card reader, or a replacement on its way, within two days.",
        ),
    ),
    # --- Derek: the refund that never came, and a customer losing patience (open).
    DemoTicket(
        "derek.hollis@mail.example",
        "Refund for cancelled subscription",
        "refunds",
        15 * DAY,
        "Hello, I cancelled our subscription on the 1st because we are closing the store. Your email said the "
        "unused months would be refunded within 5-7 working days. Could you confirm it's on its way?\n\nDerek Hollis",
        (
            assign(3 * HOUR),
            reply(
                HOUR,
                "Hi Derek, thanks for getting in touch, and I'm sorry to hear about the store. I can see the "
                "cancellation: the refund of $238.00 for the unused months has been requested and should reach your "
                "card within 5 to 7 working days.",
            ),
            customer_says(
                9 * DAY, "It has now been 9 working days and there is nothing on my card. Can you check please."
            ),
            reply(20 * HOUR, "Hi Derek, apologies for the wait. I've asked our payments team to trace it."),
            customer_says(
                3 * DAY,
                "This is the THIRD time I've asked. Two weeks, and all I get is 'we're looking into it'. Nobody has "
                "come back to me. I want my $238 by Friday or I'm disputing it with my bank and telling every shop "
                "owner on Main Street to stay away from you.",
            ),
            note(
                40 * MINUTE,
                "The refund was never paid: the card on file had expired and the provider rejected it without "
                "telling us. Tom, please call Derek today and pay by bank transfer. I'll follow up on Thursday.",
                by=SUPERVISOR,
            ),
            call(
                HOUR,
                12 * MINUTE,
                "Called Derek. Apologised for the delay and for nobody calling back. Explained the refund bounced off "
                "his expired card. He gave bank details; $238.00 sent by transfer today, reference HOLLIS-REFUND. "
                "Still upset but calmer; wants it in writing.",
            ),
            reply(
                20 * MINUTE,
                "Derek, thank you for taking my call, and again, I'm sorry. You were right to push: the refund failed "
                "because the card on file had expired, and we should have caught that two weeks ago. $238.00 went to "
                "your bank account today by transfer (reference HOLLIS-REFUND). I'll check with you on Thursday that "
                "it has arrived.",
            ),
        ),
        channel=Channel.EMAIL,
        priority=Priority.HIGH,
    ),
    # --- Sofia: a regular with two months of history, who married in the middle of it.
    DemoTicket(
        "sofia@trattoria-marino.example",
        "Second till for our new terrace",
        "orders",
        58 * DAY,
        "Ciao! We are opening a terrace next month and need a second till with a card reader on the same account, same "
        "menu. How fast can you deliver to Milan?\n\nSofia, Trattoria Marino",
        (
            assign(HOUR),
            reply(
                HOUR,
                "Ciao Sofia, congratulations on the terrace! I've added a second till and reader to your account; "
                "your menu syncs to it automatically. Delivery to Milan takes 2 to 3 working days: the order is "
                "TW-45102 and tracking will follow by email.",
            ),
            customer_says(3 * DAY, "Arrived and working, grazie!"),
            resolve(HOUR, "Second till and reader delivered (TW-45102); the menu synced to it."),
            close(7 * DAY, CLOSED_QUIETLY),
        ),
        channel=Channel.EMAIL,
        as_name="Sofia Marino",
    ),
    DemoTicket(
        "sofia@trattoria-marino.example",
        "Two charges on this month's invoice?",
        "billing",
        41 * DAY,
        "This month's invoice has two lines for the subscription. Is this a mistake?",
        (
            assign(2 * HOUR),
            reply(
                30 * MINUTE,
                "Hi Sofia, it isn't a mistake, but we should have explained it: the second line is the terrace till "
                "from the 10th, charged for the rest of the month (€18.40). From next month both tills are on one "
                "line. I've attached a breakdown.",
            ),
            customer_says(DAY, "Ah ok, that makes sense. Thank you Tom."),
            resolve(10 * MINUTE, "Pro-rata charge for the second till, explained with a breakdown."),
            close(7 * DAY, CLOSED_QUIETLY),
        ),
        channel=Channel.EMAIL,
        as_name="Sofia Marino",
    ),
    DemoTicket(
        "sofia@trattoria-marino.example",
        "Menu changes not showing on the terrace till",
        "technical",
        24 * DAY,
        "Hello, it's Sofia (new surname, same trattoria!). I changed the spritz prices in the back office this "
        "morning but the terrace till still shows the old ones. The main till is fine.",
        (
            assign(40 * MINUTE),
            reply(
                25 * MINUTE,
                "Hi Sofia, and congratulations! The terrace till last synced two days ago, so it's probably not "
                "online. Could you check its Wi-Fi, then pull down on the menu screen to sync?",
            ),
            customer_says(
                2 * HOUR, "It was on the guest Wi-Fi, which blocks it. On the staff network the prices are right."
            ),
            resolve(15 * MINUTE, "The terrace till was on a guest network that blocks syncing; moved to staff Wi-Fi."),
        ),
        channel=Channel.EMAIL,
    ),
    DemoTicket(
        "sofia@trattoria-marino.example",
        "Two tills for our new Navigli site, before the 14th?",
        "orders",
        3 * DAY,
        "We are opening a second trattoria in Navigli on the 14th. We need two tills and two readers there, on the "
        "same account but with their own menu and reports. Can you do that before the 14th?",
        (
            assign(HOUR),
            reply(
                90 * MINUTE,
                "Ciao Sofia, what good news. Yes: a second site gets its own menu and reports, and you can still see "
                "both sites together. I've reserved two tills and two readers. Before I ship them, could you confirm "
                "the delivery address and who should receive the staff logins?",
            ),
            customer_says(4 * HOUR, "Via Vigevano 22, 20144 Milano. Logins to Marco, marco@trattoria-marino.example."),
            note(30 * MINUTE, "Site created. Shipping Monday for Wednesday delivery: four days before the opening."),
        ),
        channel=Channel.EMAIL,
        promise=DemoPromise(
            7 * HOUR + 30 * MINUTE, 4 * DAY, "Both tills will be configured and shipped within four days."
        ),
    ),
    # --- Ken: a how-to question (resolved).
    DemoTicket(
        "kenji@nakamura-ramen.example",
        "Can guests split a bill between two cards?",
        "technical",
        12 * DAY,
        "Hi, guests often ask to split the bill. Can I take part of the payment on one card and the rest on "
        "another? Ken",
        (
            assign(3 * HOUR),
            reply(
                HOUR,
                "Hi Ken, yes: on the payment screen tap 'Split', choose 'By amount' or 'Evenly', and take each card in "
                "turn. The receipt shows both payments.",
            ),
            customer_says(DAY, "Perfect, that's exactly it. Thanks!"),
            resolve(5 * MINUTE, "Split payments: payment screen → Split."),
        ),
        priority=Priority.LOW,
    ),
    # --- Isabel: an enterprise API customer; an old question (resolved) and an outage today (open).
    DemoTicket(
        "isabel.fernandez@lumen-retail.example",
        "Rate limits on the reporting API",
        "technical",
        33 * DAY,
        "Our nightly job pulls sales for 42 stores from /v2/reports, and since last week we get HTTP 429 after about "
        "300 requests. What are the limits, and can they be raised for enterprise accounts?",
        (
            assign(45 * MINUTE),
            reply(
                HOUR,
                "Hi Isabel, the reporting API allows 300 requests a minute per account. Instead of one request per "
                "store you can pass up to 50 store ids in one call (store_ids=…), which turns your job into a single "
                "request. I've also asked our technical team about enterprise limits.",
            ),
            note(2 * HOUR, "Technical: no per-account raise for now; the batched call is the supported route."),
            customer_says(DAY, "The batched call works; the job now takes 40 seconds. Thanks."),
            resolve(30 * MINUTE, "Switched to the batched store_ids call; no limit change needed."),
        ),
        channel=Channel.EMAIL,
    ),
    DemoTicket(
        "isabel.fernandez@lumen-retail.example",
        "POST /v2/sales returns 500 for every store since 07:00",
        "technical",
        5 * HOUR,
        'Since 07:00 CET every POST to /v2/sales returns HTTP 500 {"error": "internal"}. Sales are queuing on '
        "the tills in all 42 stores. Request id of one failure: req_8f2c41. Please treat as urgent.",
        (
            assign(10 * MINUTE),
            reply(
                15 * MINUTE,
                "Hi Isabel, thank you for the request id, it saves time. I've passed it to our engineers as urgent. "
                "The tills keep queued sales safely and send them once the API accepts them, so nothing is lost. "
                "I'll update you within the hour.",
            ),
            note(
                5 * MINUTE,
                "Engineer on call: req_8f2c41 fails in tax calculation for accounts with the new 'prices include tax' "
                "setting, which Lumen switched on last night.",
            ),
            call(
                40 * MINUTE,
                9 * MINUTE,
                "Isabel called for an update. Told her the cause is found; workaround is switching 'prices include "
                "tax' off until the fix ships. She'll check with finance.",
            ),
            customer_says(
                HOUR,
                "Finance agreed and we switched it off. Sales are going through again in the five stores I checked. "
                "Please confirm when the real fix is out so we can switch it back on.",
            ),
        ),
        channel=Channel.EMAIL,
        priority=Priority.URGENT,
        promise=DemoPromise(
            2 * HOUR + 15 * MINUTE,
            3 * HOUR,
            "We'll have the 500s fixed and your stores syncing again within three hours.",
            reason="The fault is isolated to one release; rolling it back is quick.",
        ),
    ),
    # --- Seun: returning an unopened reader (waiting on him).
    DemoTicket(
        "seun@adeyemi-styles.example",
        "Refund for an unused card reader",
        "refunds",
        4 * DAY,
        "I bought an extra reader for the salon two months ago but we never opened it. Can I send it back for a "
        "refund? Seun",
        (
            assign(2 * HOUR),
            reply(
                HOUR,
                "Hi Seun, yes: unopened readers can be returned within 90 days for a full refund. I've emailed you a "
                "prepaid returns label. Could you tell me the serial number on the box (it starts RD-) so I can match "
                "the return to your order?",
            ),
            wait(MINUTE, "Waiting for the serial number."),
        ),
    ),
    # --- Peggy: sign-in codes not arriving, sorted on the phone (resolved).
    DemoTicket(
        "peggy.obrien@mail.example",
        "Not getting the sign-in codes by text",
        "account",
        16 * DAY,
        "Peggy rang: since changing phone provider she doesn't get the six-digit sign-in codes by text, so she can't "
        "get into the back office.",
        (
            call(
                5 * MINUTE,
                14 * MINUTE,
                "Her number was saved without the country code after the switch. Verified her with the last four "
                "digits of the card on file and the shop's Eircode, then corrected it to +353. Test code arrived "
                "while she was on the line.",
            ),
            reply(
                10 * MINUTE,
                "Hi Peggy, thank you for your patience on the phone. As we found, your mobile number had lost its "
                "country code; it's fixed and the test code came through. If it happens again, the 'Use an "
                "authenticator app' option works without any signal at all.",
            ),
            resolve(2 * MINUTE, "Mobile number was stored without +353; corrected and tested during the call."),
        ),
        channel=Channel.PHONE,
    ),
    # --- Rahul: a full data export (waiting on him).
    DemoTicket(
        "rahul@mehta-electronics.example",
        "Export of all our transactions for the accountant",
        "account",
        5 * DAY,
        "Our accountant needs every transaction since we joined in 2021, with VAT split out, as CSV. The export in "
        "Reports only goes back 12 months. Can you send the full history?",
        (
            assign(HOUR),
            reply(
                2 * HOUR,
                "Hi Rahul, yes, we can. The in-app export stops at 12 months to stay fast, but we can prepare the full "
                "history. To protect your data we send it only to an account owner: are you happy for it to go to "
                "this address, and does your accountant want one file or one per year?",
            ),
            wait(MINUTE, "Waiting for Rahul to confirm the recipient and the format."),
        ),
        channel=Channel.EMAIL,
    ),
    # --- Chloé: closing her account and deleting her data (closed).
    DemoTicket(
        "chloe.dubois@mail.example",
        "Please close my account and delete my data",
        "account",
        30 * DAY,
        "Bonjour, I am closing my atelier. Please cancel everything and delete my account and my customers' data. "
        "Chloé Dubois",
        (
            assign(2 * HOUR),
            reply(
                HOUR,
                "Bonjour Chloé, I'm sorry to see you go, and I hope the next chapter is a happy one. Before we delete "
                "anything: would you like an export of your sales and customer list? We can't recover them after "
                "deletion.",
            ),
            wait(MINUTE, "Asked whether she wants an export before deletion."),
            customer_says(2 * DAY, "Yes please, send the export first, then delete."),
            reply(
                3 * HOUR,
                "Here is your export (sales, products and customers, as CSV). Deletion is scheduled for 7 days from "
                "today, so you have time to check the files; you'll get an email when it's done.",
            ),
            resolve(5 * MINUTE, "Export sent; subscription cancelled; account deletion scheduled."),
            close(8 * DAY, "Account and data deleted; confirmation emailed."),
        ),
        channel=Channel.EMAIL,
    ),
    # --- Mateus: an invoice address change (closed).
    DemoTicket(
        "mateus@cafe-aurora.example",
        "Change the address on our invoices",
        "billing",
        27 * DAY,
        "Olá! We moved. Please change the billing address to Rua Augusta 1200, São Paulo, 01304-001, and reissue "
        "last month's invoice with the new address: our accountant needs it.",
        (
            assign(3 * HOUR),
            reply(
                40 * MINUTE,
                "Olá Mateus! Done: new invoices show Rua Augusta 1200, and last month's invoice is reissued with the "
                "new address. It's attached, and also in Billing → Invoices.",
            ),
            customer_says(DAY, "Obrigado!"),
            resolve(5 * MINUTE, "Billing address changed; last month's invoice reissued."),
            close(7 * DAY, CLOSED_QUIETLY),
        ),
        channel=Channel.EMAIL,
    ),
    # --- Aisha: a reader that won't pair, by phone (open).
    DemoTicket(
        "aisha.rahman@greenleaf-grocers.example",
        "Card reader won't pair with the iPad",
        "technical",
        DAY,
        "Aisha called: the new reader won't pair with the shop iPad. Bluetooth is on and the reader shows a blue "
        "light, but it never appears in the app.",
        (
            assign(2 * MINUTE),
            call(
                3 * MINUTE,
                18 * MINUTE,
                "Restarted the reader, forgot it in the iPad's Bluetooth settings, re-added it from the app: still "
                "not listed. Reader firmware 2.1 is older than the app needs (2.4); updating needs a USB-C cable she "
                "doesn't have at the shop.",
            ),
            reply(
                10 * MINUTE,
                "Hi Aisha, thank you for trying all of that with me. The reader needs a firmware update before it can "
                "pair with the latest app. A USB-C cable is in the post today; plug the reader into any computer and "
                "it updates itself in about five minutes. Your old reader keeps working until then.",
            ),
            note(5 * MINUTE, "Cable sent (TW-48390). Asking Technical why readers still ship with firmware 2.1."),
        ),
        channel=Channel.PHONE,
    ),
    # --- New this morning: nobody has answered yet.
    DemoTicket(
        "jonas@berg-bikes.example",
        "Receipt printer prints blank receipts",
        "technical",
        3 * HOUR,
        "Since this morning the receipt printer feeds paper but prints nothing. The roll is new and the till says "
        "the receipt printed. Jonas, Berg Bikes",
        (assign(20 * MINUTE),),
        promise=DemoPromise(
            30 * MINUTE,
            3 * HOUR + 20 * MINUTE,
            "A replacement thermal driver will be on your tills by this afternoon.",
            reason="Known driver fault; the fix is a remote push.",
        ),
    ),
    DemoTicket(
        "emily@carters-bakery.example",
        "Add a login for my new manager",
        "account",
        70 * MINUTE,
        "Hi! I've hired a shop manager, Josh. How do I give him his own login that can do refunds but can't see our "
        "bank details? Emily",
    ),
    DemoTicket(
        "wei.zhang@jade-garden.example",
        "VAT number missing from our invoices",
        "billing",
        20 * HOUR,
        "Hello, our VAT number (GB 123 4567 89) isn't on your invoices, so we can't reclaim the VAT. Could you add "
        "it and reissue this year's invoices? Wei Zhang, Jade Garden",
        channel=Channel.EMAIL,
    ),
    DemoTicket(
        "sam@osei-coffee.example",
        "Which charger for the readers?",
        "orders",
        2 * HOUR,
        "The readers arrived, thank you! The box has a cable but no plug. Which charger should I buy, and is a phone "
        "charger OK? Sam",
        priority=Priority.LOW,
    ),
    DemoTicket(
        "kwame.asante@mail.example",
        "Reader shows error E-104 on contactless",
        "technical",
        90 * MINUTE,
        "Kwame called from his market stall: the reader shows E-104 on every contactless payment since lunchtime. "
        "Chip and PIN still works. He has a queue and will call back if it gets worse.",
        channel=Channel.PHONE,
        promise=DemoPromise(
            10 * MINUTE,
            HOUR + 45 * MINUTE,
            "We'll have contactless working again within two hours.",
            reason="E-104 is a certificate refresh we can trigger remotely.",
        ),
    ),
    DemoTicket(
        "liv@bennett-surf.example",
        "Pausing our account over winter",
        "account",
        30 * HOUR,
        "Hi, the surf shop closes from November to March. Can I pause the subscription without losing our products, "
        "customers and sales history? Liv",
        channel=Channel.EMAIL,
        priority=Priority.NORMAL,
    ),
    # --- Fatima: the wrong item delivered (waiting on her).
    DemoTicket(
        "fatima@alsayed-textiles.example",
        "Wrong item in my order",
        "orders",
        8 * DAY,
        "I ordered a card reader and a stand (order TW-47962). The box had two stands and no reader.",
        (
            assign(HOUR),
            reply(
                90 * MINUTE,
                "Hi Fatima, I'm so sorry, that's our packing mistake. The reader went out by express today; tracking "
                "will follow. We'll email a returns label for the extra stand.",
            ),
            customer_says(2 * DAY, "Thank you, the reader came. Where do I send the extra stand?"),
            reply(
                3 * HOUR,
                "Great news. The prepaid returns label is attached; any post office will take the parcel. Could you "
                "let me know once it's on its way?",
            ),
            wait(MINUTE, "Waiting for Fatima to post the extra stand back."),
        ),
        channel=Channel.EMAIL,
    ),
    # --- Resolved and closed: the everyday work of the last two months.
    DemoTicket(
        "patrick.nguyen@mail.example",
        "Reader arrived with a cracked screen",
        "orders",
        22 * DAY,
        "G'day, the reader arrived in a crushed box and the screen is cracked. Photos attached.",
        (
            assign(2 * HOUR),
            reply(
                30 * MINUTE,
                "Hi Patrick, sorry it arrived like that. No need to send it back: a replacement is on its way by "
                "express today (TW-46633).",
            ),
            customer_says(3 * DAY, "New one arrived fine, cheers."),
            resolve(20 * MINUTE, "Replacement sent; the damaged reader was written off."),
        ),
        promise=DemoPromise(2 * HOUR, 4 * DAY, "A replacement reader will reach you within four days."),
    ),
    DemoTicket(
        "ingrid@nordic-knits.example",
        "Switch from monthly to yearly billing",
        "billing",
        18 * DAY,
        "Hi, I'd like to move to yearly billing for the discount. Do I lose the days left on this month?",
        (
            assign(HOUR),
            reply(
                45 * MINUTE,
                "Hi Ingrid, you don't lose anything: the unused days are credited against the yearly price. I've "
                "switched you over; the new invoice, with the credit, is in Billing → Invoices.",
            ),
            resolve(5 * MINUTE, "Switched to yearly billing; unused days credited."),
        ),
        promise=DemoPromise(30 * MINUTE, DAY, "Your yearly plan will be active by tomorrow."),
    ),
    DemoTicket(
        "carlos@mendoza-tacos.example",
        "Card declined at renewal",
        "billing",
        3 * DAY,
        "I got an email that my renewal payment failed. The card is fine, I used it this morning. Please don't "
        "switch off the tills.",
        (
            assign(2 * HOUR),
            reply(
                HOUR,
                "Hola Carlos, don't worry: your tills keep working for 14 days after a failed payment. Your bank "
                "declined the charge as 'do not honour', which usually means a fraud check on their side. Could you "
                "ask them to allow payments to TILLWISE and let me know, so I can retry it?",
            ),
            wait(MINUTE, "Waiting for Carlos to clear it with his bank."),
        ),
        channel=Channel.EMAIL,
    ),
    DemoTicket(
        "zanele@ubuntu-books.example",
        "Yesterday's sales missing from reports",
        "technical",
        2 * DAY,
        "Our internet was down yesterday afternoon. The till kept working offline, but none of the afternoon's sales "
        "show in the reports. Are they lost?",
        (
            assign(HOUR),
            reply(
                40 * MINUTE,
                "Hi Zanele, they're not lost: sales taken offline stay on the till until it can send them. Could you "
                "open Settings → Sync on the till and tell me the number next to 'Waiting to send'?",
            ),
            customer_says(5 * HOUR, "It says 37 waiting to send, and 'sync error 409'."),
            note(
                30 * MINUTE,
                "409: duplicate receipt numbers after the till was restored from backup. Needs Technical to reset "
                "the receipt counter; asked them.",
            ),
        ),
        promise=DemoPromise(
            7 * HOUR + 20 * MINUTE, 2 * DAY, "The missing sales will be back in your reports within two days."
        ),
    ),
    DemoTicket(
        "tomasz@kowalski-software.example",
        "Webhook signatures don't verify",
        "technical",
        6 * DAY,
        "We're integrating your webhooks for a client. The X-Tillwise-Signature header never matches our "
        "HMAC-SHA256 of the body with the signing secret. Sample payload and code attached. What are we missing?",
        (
            assign(2 * HOUR),
            reply(
                3 * HOUR,
                "Hi Tomasz, the sample made this quick. The signature covers the raw request bytes, and your framework "
                "gives you the body after parsing and re-serialising the JSON, which changes the spacing. Sign the "
                "body exactly as received. The header is hex, not base64. Does it verify that way?",
            ),
            wait(MINUTE, "Waiting for Tomasz to test with the raw body."),
        ),
        channel=Channel.EMAIL,
    ),
    DemoTicket(
        "eleanor@price-interiors.example",
        "Question about the price increase email",
        "billing",
        44 * DAY,
        "I received an email that our plan goes up from £29 to £35 a month from next quarter. We signed up on a 'price "
        "locked' offer two years ago. Does that still apply?",
        (
            assign(3 * HOUR),
            reply(
                HOUR,
                "Hi Eleanor, thank you for checking, and you're right: your account is on the price-locked plan, so "
                "the increase doesn't apply. The email went to everyone by mistake; I'm sorry for the worry. Your "
                "price stays at £29.",
            ),
            customer_says(DAY, "Thank you for the quick and clear answer."),
            resolve(10 * MINUTE, "Price-locked plan: the increase does not apply."),
            close(7 * DAY, CLOSED_QUIETLY),
        ),
        channel=Channel.EMAIL,
    ),
    DemoTicket(
        "yusuf@demir-kebab.example",
        "Cancel at the end of our contract",
        "refunds",
        35 * DAY,
        "Merhaba, our contract ends on the 30th and we will not renew. Please make sure we are not charged again.",
        (
            assign(4 * HOUR),
            reply(
                HOUR,
                "Merhaba Yusuf, done: your subscription ends on the 30th with no further charges, and your data stays "
                "available to export for 90 days after that. If there's anything we could have done better, I'd be "
                "glad to hear it.",
            ),
            customer_says(2 * DAY, "Thanks. Nothing wrong, we are selling the business."),
            resolve(5 * MINUTE, "Cancellation at the end of the term confirmed; no further charges."),
            close(7 * DAY, CLOSED_QUIETLY),
        ),
        channel=Channel.EMAIL,
    ),
    DemoTicket(
        "anna.novakova@mail.example",
        "Please deliver to our new gallery instead",
        "orders",
        48 * DAY,
        "I ordered a reader yesterday (TW-44018) but we are moving. Could you deliver it to Karlova 12, Praha 1?",
        (
            assign(HOUR),
            reply(
                20 * MINUTE,
                "Hi Anna, it hadn't left our warehouse yet, so I've changed the delivery address to Karlova 12, "
                "Praha 1. It ships today.",
            ),
            resolve(2 * MINUTE, "Delivery address changed before dispatch."),
            close(7 * DAY, CLOSED_QUIETLY),
        ),
    ),
    DemoTicket(
        "linh@lotus-nails.example",
        "Locked out after our manager left",
        "account",
        14 * DAY,
        "Linh called: their former manager was the only admin on the account and has left. Nobody can change staff "
        "or see payouts.",
        (
            call(
                2 * MINUTE,
                22 * MINUTE,
                "Verified Linh as the owner (business registration number and last payout amount). She'll email the "
                "signed ownership form.",
            ),
            reply(
                15 * MINUTE,
                "Hi Linh, as we discussed, please send the attached ownership form, signed, from this email address. "
                "As soon as it arrives I'll make you the account admin.",
            ),
            wait(MINUTE, "Waiting for the signed ownership form."),
            customer_says(DAY, "Signed form attached."),
            reply(
                2 * HOUR,
                "Thanks Linh: you're now the admin. I'd suggest adding a second admin so this can't happen again "
                "(Settings → Staff → Roles).",
            ),
            resolve(5 * MINUTE, "Linh made admin after verifying ownership; the former manager's access removed."),
        ),
        channel=Channel.PHONE,
    ),
    DemoTicket(
        "riya@spice-route.example",
        "Card tips missing from the end-of-day report",
        "technical",
        19 * DAY,
        "Card tips aren't in the end-of-day report, so our tip split is wrong. Cash tips show fine.",
        (
            assign(HOUR),
            reply(
                HOUR,
                "Hi Riya, since last month's update card tips have their own section of the report, under Payments → "
                "Tips. Do you see them there?",
            ),
            customer_says(DAY, "Found them, thanks."),
            resolve(10 * MINUTE, "Card tips are under Payments → Tips in the report."),
            customer_reopens(2 * DAY, "Actually the tips from our second till are still missing; only the first's."),
            reply(
                2 * HOUR,
                "Sorry Riya, my first answer only covered half of it. The second till had 'Include tips' switched "
                "off; I've switched it on and re-run this week's reports, which now include both tills.",
            ),
            customer_says(4 * HOUR, "Yes, all there now. Thanks for sticking with it."),
            resolve(10 * MINUTE, "The second till had 'Include tips' off; switched on and the reports re-run."),
        ),
        promise=DemoPromise(HOUR, DAY, "The tips will be back in your end-of-day report by tomorrow."),
    ),
    DemoTicket(
        "giulia@gelateria-ricci.example",
        "I refunded a customer twice by mistake",
        "billing",
        5 * HOUR,
        "Help! I pressed refund twice on a €60 sale and the customer got €120 back. How do I undo one?",
        (
            assign(5 * MINUTE),
            reply(
                10 * MINUTE,
                "Hi Giulia, no panic. A card refund can't be pulled back once sent, but you can recover the amount: "
                "the sale screen now offers 'Request payment', which sends the customer a €60 payment link. Or we "
                "can contact them for you. Which would you prefer?",
            ),
            customer_says(15 * MINUTE, "I'll send the link myself. But can the button ask 'are you sure' next time?"),
            note(10 * MINUTE, "Feature request: confirm before a second refund on the same sale. Passed to product."),
        ),
        channel=Channel.CHAT,
        promise=DemoPromise(
            50 * MINUTE,
            4 * HOUR,
            "We'll reverse the duplicate refund within four hours.",
            reason="Reversing a duplicate refund takes minutes in the payments console.",
        ),
    ),
    DemoTicket(
        "pierre@lambert-vins.example",
        "Receipts in French?",
        "technical",
        40 * DAY,
        "Is it possible to print receipts in French? Some of the text is still in English.",
        (
            assign(6 * HOUR),
            reply(
                HOUR,
                "Bonjour Pierre, yes: Settings → Receipts → Language → Français. Lines you typed yourself stay as you "
                "wrote them.",
            ),
            customer_says(DAY, "Parfait, merci."),
            resolve(5 * MINUTE, "Receipt language set to French."),
            close(7 * DAY, CLOSED_QUIETLY),
        ),
        channel=Channel.EMAIL,
        priority=Priority.LOW,
    ),
    DemoTicket(
        "mei@tanaka-tea.example",
        "Import our product list from a spreadsheet",
        "technical",
        26 * DAY,
        "We have 640 teas in a spreadsheet. Typing them in one by one would take days. Is there an import?",
        (
            assign(2 * HOUR),
            reply(
                HOUR,
                "Hi Mei, yes: Products → Import takes a CSV. Our template is attached; name, price, tax rate and "
                "category are required. Send me your file if you'd like me to check it first.",
            ),
            customer_says(DAY, "Here it is. Some teas come in two sizes, is that ok?"),
            reply(
                3 * HOUR,
                "That's fine: I added a 'variant' column for the sizes and imported it for you. All 640 teas are in, "
                "as 812 products counting the sizes.",
            ),
            resolve(5 * MINUTE, "Imported 640 teas (812 products with sizes) from the customer's spreadsheet."),
        ),
    ),
    DemoTicket(
        "daniel@cohens-deli.example",
        "Copies of last year's invoices",
        "billing",
        11 * DAY,
        "Our accountant needs all of last year's invoices as PDFs for the audit. Can you send them in one go?",
        (
            assign(HOUR),
            reply(
                40 * MINUTE,
                "Hi Daniel, attached is one ZIP with all twelve of last year's invoices. In Billing → Invoices, "
                "'Download all' makes the same ZIP for any year.",
            ),
            resolve(3 * MINUTE, "Sent last year's invoices as one ZIP."),
        ),
        channel=Channel.EMAIL,
    ),
    DemoTicket(
        "nadia@petrova-beauty.example",
        "Chargeback notice: what do I do?",
        "billing",
        DAY,
        "I got an email saying a customer disputed a €240 payment from last month. I have the signed receipt. What "
        "do I need to do, and by when?",
        (
            assign(10 * MINUTE),
            reply(
                20 * MINUTE,
                "Hi Nadia, you have 10 days to respond, until the 24th. Upload the signed receipt and any booking "
                "confirmation in Payments → Disputes → Respond, and I'll review it before it goes to the bank.",
            ),
            customer_says(3 * HOUR, "Uploaded the receipt and the booking email. Can you check?"),
            note(HOUR, "Evidence looks strong (signed receipt and booking). Submit tomorrow once she confirms."),
        ),
        channel=Channel.CHAT,
        priority=Priority.HIGH,
        promise=DemoPromise(5 * HOUR, DAY, "We'll send you the evidence pack for the dispute by tomorrow."),
    ),
    DemoTicket(
        "arjun.singh@mail.example",
        "Can't sign in after changing my email",
        "account",
        52 * DAY,
        "I changed my login email last week and now neither the old nor the new one works.",
        (
            assign(2 * HOUR),
            reply(
                30 * MINUTE,
                "Hi Arjun, the change is waiting for you to click the confirmation link we sent to your new address. "
                "I've sent it again; until you click it, the old address still works.",
            ),
            customer_says(4 * HOUR, "Found it in spam, all good now."),
            resolve(5 * MINUTE, "The email change was unconfirmed; confirmation link resent."),
            close(7 * DAY, CLOSED_QUIETLY),
        ),
    ),
    DemoTicket(
        "elena@patiseria-popescu.example",
        "Reader battery is flat every morning",
        "technical",
        9 * DAY,
        "The reader is at 100% when we close and flat in the morning. It's only three months old.",
        (
            assign(15 * MINUTE),
            reply(
                20 * MINUTE,
                "Hi Elena, does the reader sit on its stand overnight? If the stand isn't plugged in, the reader keeps "
                "searching for it and drains. Turning the reader off (hold the button for 5 seconds) avoids that.",
            ),
            customer_says(DAY, "The stand wasn't plugged in! Fixed, thank you."),
            resolve(5 * MINUTE, "The stand was unplugged; the reader drained searching for it."),
        ),
        channel=Channel.CHAT,
        promise=DemoPromise(HOUR, 8 * HOUR, "We'll find out why the battery drains by the end of today."),
    ),
    DemoTicket(
        "ben.adler@adler-optics.example",
        "Single sign-on for our store managers",
        "technical",
        4 * DAY,
        "We'd like our 12 store managers to sign in with our Microsoft Entra ID instead of separate passwords. Do you "
        "support SAML, and what do you need from us?",
        (
            assign(HOUR),
            reply(
                2 * HOUR,
                "Hi Ben, yes, SAML single sign-on is part of your enterprise plan; the setup guide is attached. We "
                "need your Entra ID metadata URL and a test user, so we can try it before switching everyone over.",
            ),
            customer_says(DAY, "Metadata URL is in the attached file. Test user: test.manager@adler-optics.example."),
            note(2 * HOUR, "Passed to Technical for the SSO configuration (2 to 3 working days)."),
        ),
        channel=Channel.EMAIL,
    ),
    DemoTicket(
        "mohammed@haddad-barbers.example",
        "Is online booking on the roadmap?",
        "technical",
        31 * DAY,
        "Lots of barbers use booking apps. Will you add appointments, so bookings and payments are in one place?",
        (
            assign(DAY),
            reply(
                HOUR,
                "Hi Mohammed, thanks for asking. Appointments aren't in the app and I can't promise a date, but I've "
                "added your vote to the request, and you'll hear from us if it's built. Meanwhile several barbers use "
                "our booking-app integrations, under Settings → Integrations.",
            ),
            resolve(5 * MINUTE, "Feature request recorded; pointed to the booking integrations."),
            close(7 * DAY, CLOSED_QUIETLY),
        ),
        channel=Channel.EMAIL,
        priority=Priority.LOW,
    ),
    DemoTicket(
        "lucy@fraser-yarns.example",
        "Payout hasn't reached our bank",
        "billing",
        2 * DAY,
        "Monday's payout of £1,284.60 hasn't arrived and it's Wednesday. It's usually there on Tuesday.",
        (
            assign(HOUR),
            reply(
                30 * MINUTE,
                "Hi Lucy, Monday's payout left us on time, with the bank reference TW-PO-88210. Banks sometimes hold "
                "the first payout to newly changed account details. Did your bank details change recently?",
            ),
            customer_says(3 * HOUR, "Yes! We switched banks last week."),
        ),
        channel=Channel.EMAIL,
        promise=DemoPromise(
            4 * HOUR + 40 * MINUTE,
            2 * DAY,
            "We'll trace the payout with our bank and confirm where it is within two days.",
        ),
    ),
)

CUSTOMERS_BY_EMAIL: dict[str, DemoCustomer] = {customer.email: customer for customer in DEMO_CUSTOMERS}
TICKETS_BY_EMAIL: dict[str, list[DemoTicket]] = defaultdict(list)
for _ticket in DEMO_TICKETS:
    TICKETS_BY_EMAIL[_ticket.email].append(_ticket)
