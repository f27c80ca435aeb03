// GET /posts/{postId} as a team would write it on Node.js with the AWS SDK
// v3's document client, the client built once at load: the same one Query
// Quire's route makes (the post's card and its body, `POST#<id>`), and the
// same JSON answer. Only for the bench's comparison; not part of Quire.
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, QueryCommand } from "@aws-sdk/lib-dynamodb";

const client = DynamoDBDocumentClient.from(new DynamoDBClient({}));
const TABLE = process.env.TABLE_NAME;
const json = (statusCode, body) => ({ statusCode, headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
const notFound = () => json(404, { error: { code: "not_found", message: "no such post" } });

export const handler = async (event) => {
  const id = (event.pathParameters?.postId ?? "").toUpperCase();
  if (!/^[0-9A-HJKMNP-TV-Z]{26}$/.test(id)) {
    return json(400, { error: { code: "invalid_id", message: "not a valid post id" } });
  }
  const { Items = [] } = await client.send(new QueryCommand({
    TableName: TABLE,
    KeyConditionExpression: "PK = :pk AND begins_with(SK, :post)",
    ExpressionAttributeValues: { ":pk": `POST#${id}`, ":post": "POST" },
  }));
  const card = Items.find((i) => i.entity === "post");
  const body = Items.find((i) => i.entity === "postBody");
  if (!card || !body || card.status !== "published") return notFound();
  const views = Object.values(card.views ?? {}).reduce((a, b) => a + Number(b), 0);
  return json(200, {
    id: card.postId, authorId: card.authorId, authorName: card.authorName, title: card.title, content: body.content,
    tags: card.tags ?? [], createdAt: card.createdAt, publishedAt: card.publishedAt ?? null,
    viewCount: views, commentCount: Number(card.commentCount ?? 0), likeCount: Number(card.likeCount ?? 0),
  });
};
