"""Hold the store's write lock for some seconds (another program writing a long transaction)."""

import sqlite3
import sys
import time

conn = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)
conn.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
conn.execute("COMMIT")
