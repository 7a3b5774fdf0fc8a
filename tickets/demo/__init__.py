"""Demo data: a small, realistic help desk to look around in, loaded by ``manage.py seed_demo``.

The world: Tillwise sells tills, card readers and a point-of-sale subscription to small businesses
(cafés, shops, salons) and a few chains that use its API. Its desk has three teams, four staff
logins and about forty customers whose tickets sit in every status, with conversations that read
like real ones: a double charge, a password-reset loop, a late parcel, a customer who gets angrier
with every unanswered message, a regular with months of history.

Why the seeding looks the way it does:
1. Every ticket write goes through ``tickets.services`` with ``now=`` backdated, so the interaction
   log is exactly what the desk would hold had these things happened (``Ticket.save`` refuses
   anything else).
2. Running it again adds nothing and changes nothing a person may have edited: configuration and
   customers are created only when missing, and a demo customer's tickets are played only while
   that customer has none. The one exception is the staff logins: each run makes the printed table
   true again (password, active, staff flags, role group, team), so the printed passwords always work.
3. All times are offsets from one ``now`` read once, and the data has no randomness, so two
   databases seeded at different moments hold the same story shifted in time.
4. The whole run is one transaction: a failure leaves the database as it was.
"""

from tickets.demo.seeding import SeedReport, format_report, seed
from tickets.demo.shapes import DemoUser, StaffRole
from tickets.demo.world import DEMO_USERS

__all__ = ["DEMO_USERS", "DemoUser", "SeedReport", "StaffRole", "format_report", "seed"]
