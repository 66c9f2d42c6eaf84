"""A loop job that fails now and then, the way a scraper meets a bad response.

About one run in three raises (a real traceback on stderr); herder records the
exception type, backs off, and tries again.
"""
import json
import random

payload = random.choice(['{"price": 101.5}', '{"price": 99.8}', "<html>rate limited</html>"])
data = json.loads(payload)  # raises json.decoder.JSONDecodeError on the HTML answer
print(f"flaky: got price {data['price']}")
