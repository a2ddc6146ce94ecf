# FAKE TEST DATA: every credential in this file is made up to match the SEC001 patterns.
# None of them was ever issued; they exist so the corpus proves each pattern is found.
import os

AWS_ACCESS_KEY_ID = "AKIAZ7XQFAKEFAKE0001"
AWS_SESSION_KEY_ID = "ASIAZ7XQFAKETEST0002"
GITHUB_TOKEN = "ghp_FAKE0fake1FAKE2fake3FAKE4fake5FAKE6f"
GITHUB_FINE_GRAINED = "github_pat_F4KE_F4KE_F4KE_F4KE_F4KE_F4KE_F4KE_F4KE_F4KE_F4KE_F4KE_F4KE_F4KE_F4KE_F4KE_F4KE_ab"
GITLAB_TOKEN = "glpat-FAKEfake-0123456789_x"
SLACK_BOT_TOKEN = "xoxb-000000000000-FAKEfakeFAKEfake"
GOOGLE_MAPS_KEY = "AIzaFAKE_fake-0123456789abcdefghijklmno"
STRIPE_KEY = "sk_live_0FAKE0TEST0DATA0NOT0REAL0"
# Two on one line are two findings.
PAIR = ("AKIAZ7XQFAKEFAKE0003", "AKIAZ7XQFAKEFAKE0004")
DATABASE_URL = os.environ["DATABASE_URL"]
