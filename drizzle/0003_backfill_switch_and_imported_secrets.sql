-- Keys switched off before switched_off_by existed. OWNER only where the audit trail shows that
-- the owner's last switch-off was made with a key that does not hold keys:admin; otherwise ADMIN
-- (fail closed: an admin can switch such a key on again, a member cannot).
UPDATE "api_keys" AS k SET "switched_off_by" = CASE WHEN EXISTS (
  SELECT 1 FROM "audit_events" AS e
  LEFT JOIN "api_keys" AS actor ON actor."id" = e."actor_key_id"
  WHERE e."id" = (
    SELECT max(last."id") FROM "audit_events" AS last
    WHERE last."target_key_id" = k."id" AND last."action" = 'key.updated' AND last."changes" -> 'active' ->> 'to' = 'false'
  )
  AND e."actor_user_id" = k."user_id"
  AND NOT ('keys:admin' = ANY (coalesce(actor."scopes", '{keys:admin}'::text[])))
) THEN 'OWNER'::"switched_off_by" ELSE 'ADMIN'::"switched_off_by" END
WHERE NOT k."active";
--> statement-breakpoint
-- An imported key's value is its first secret, also when a rotation has since replaced it.
UPDATE "key_secrets" SET "imported" = true WHERE "id" IN (
  SELECT DISTINCT ON (s."key_id") s."id" FROM "key_secrets" AS s
  WHERE s."key_id" IN (SELECT "target_key_id" FROM "audit_events" WHERE "action" = 'key.imported')
     OR s."key_id" IN (SELECT "id" FROM "api_keys" WHERE "imported")
  ORDER BY s."key_id", s."created_at", s."id"
);
