CREATE TYPE "public"."switched_off_by" AS ENUM('ADMIN', 'OWNER');--> statement-breakpoint
ALTER TABLE "api_keys" ADD COLUMN "switched_off_by" "switched_off_by";--> statement-breakpoint
ALTER TABLE "key_secrets" ADD COLUMN "imported" boolean DEFAULT false NOT NULL;