-- Emails are stored normalised (NFKC, lower case, trimmed: src/users/user-service.ts) and compared so.
-- A row whose normalised form another row already has, or would have, is left as it was: the
-- unique index stays intact, and an operator can merge or rename such users by id.
WITH normalised AS (
	SELECT "id", btrim(lower(normalize("email", NFKC))) AS "email" FROM "users"
)
UPDATE "users" AS u
SET "email" = n."email"
FROM normalised AS n
WHERE u."id" = n."id"
	AND u."email" <> n."email"
	AND NOT EXISTS (SELECT 1 FROM normalised AS o WHERE o."id" <> n."id" AND lower(o."email") = lower(n."email"));
