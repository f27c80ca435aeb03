"""GET /posts/{postId} as a team would write it in Python with boto3, the
table resource built once at load: the same one Query Quire's route makes
(the post's card and its body, `POST#<id>`) and the same JSON answer. Only
for the bench's comparison; not part of Quire."""
import json
import os
import re

import boto3
from boto3.dynamodb.conditions import Key

TABLE = boto3.resource("dynamodb").Table(os.environ["TABLE_NAME"])
ULID = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")


def answer(status, body):
    return {"statusCode": status, "headers": {"content-type": "application/json"}, "body": json.dumps(body)}


def handler(event, context=None):
    post_id = ((event.get("pathParameters") or {}).get("postId") or "").upper()
    if not ULID.match(post_id):
        return answer(400, {"error": {"code": "invalid_id", "message": "not a valid post id"}})
    items = TABLE.query(KeyConditionExpression=Key("PK").eq(f"POST#{post_id}") & Key("SK").begins_with("POST"))["Items"]
    card = next((i for i in items if i.get("entity") == "post"), None)
    body = next((i for i in items if i.get("entity") == "postBody"), None)
    if card is None or body is None or card.get("status") != "published":
        return answer(404, {"error": {"code": "not_found", "message": "no such post"}})
    return answer(200, {
        "id": card["postId"], "authorId": card["authorId"], "authorName": card["authorName"], "title": card["title"],
        "content": body["content"], "tags": card.get("tags", []), "createdAt": card["createdAt"],
        "publishedAt": card.get("publishedAt"), "viewCount": int(sum(card.get("views", {}).values())),
        "commentCount": int(card.get("commentCount", 0)), "likeCount": int(card.get("likeCount", 0)),
    })
