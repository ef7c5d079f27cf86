// Unit tests of the mention highlighting in web/comments.js (`make jstest`): which `@name`s of a
// comment body are shown as mentions, given the usernames of the comment's `mentions` ids.
import assert from "node:assert/strict";
import { test } from "node:test";

import { mentionPieces } from "../../web/comments.js";

const marked = (body, names) => mentionPieces(body, names).filter(([, mention]) => mention).map(([text]) => text);

test("the pieces put back together are the body, unchanged", () => {
  const body = "Ping @bob and @Carol.\nmail ada@example.com, not @bobby";
  assert.equal(mentionPieces(body, ["bob", "carol"]).map(([text]) => text).join(""), body);
});

test("a mentioned name is marked case-insensitively, as written", () => {
  assert.deepEqual(marked("@Bob, please ask @carol.", ["bob", "carol"]), ["@Bob", "@carol"]);
});

test("an email address or a longer name is not a mention", () => {
  assert.deepEqual(marked("bob@example.com and @bobby", ["bob"]), []);
  assert.deepEqual(marked("@bob.", ["bob"]), ["@bob"]); // a trailing dot ends the name
});

test("the longest mentioned name wins, and names not in mentions stay plain", () => {
  assert.deepEqual(marked("@bob.smith and @bob", ["bob", "bob.smith"]), ["@bob.smith", "@bob"]);
  assert.deepEqual(marked("@dave", ["bob"]), []);
  assert.deepEqual(mentionPieces("plain", []), [["plain", false]]);
  assert.deepEqual(mentionPieces("@bob", [undefined]), [["@bob", false]]); // an unknown member id
});
