"""A minimal Lambda runtime loop for handler.py (what the managed python
runtime's interface client does): next → handler → response, over one
keep-alive connection to the Runtime API."""
import http.client
import json
import os

from handler import handler

connection = http.client.HTTPConnection(os.environ["AWS_LAMBDA_RUNTIME_API"])


def call(method, path, body=None):
    connection.request(method, "/2018-06-01/runtime/" + path, body=body)
    response = connection.getresponse()
    return response.headers, response.read()


while True:
    headers, payload = call("GET", "invocation/next")
    request_id = headers["lambda-runtime-aws-request-id"]
    try:
        call("POST", f"invocation/{request_id}/response", json.dumps(handler(json.loads(payload))))
    except Exception as e:  # noqa: BLE001 - reported to Lambda as the invocation's error
        call("POST", f"invocation/{request_id}/error", json.dumps({"errorType": type(e).__name__, "errorMessage": str(e)}))
