"""Prints one closing line for the Maven Surefire reports (Maven runs quietly, -q, and prints none itself):
"java unit: N passed, M failed, K skipped". Exits 1 if any test failed or errored, or if none ran."""
import glob
import sys
import xml.etree.ElementTree as ET

total = failed = skipped = 0
for path in glob.glob(f"{sys.argv[1]}/TEST-*.xml"):
    suite = ET.parse(path).getroot()
    total += int(suite.get("tests", 0))
    failed += int(suite.get("failures", 0)) + int(suite.get("errors", 0))
    skipped += int(suite.get("skipped", 0))
print(f"java unit: {total - failed - skipped} passed, {failed} failed, {skipped} skipped")
sys.exit(1 if failed or total == 0 else 0)
