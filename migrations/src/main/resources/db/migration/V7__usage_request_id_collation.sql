-- The usage intake inserts thousands of rows a second, each probing the primary key on request_id.
-- Request ids are opaque and only ever compared for equality, so they need no linguistic order:
-- with the "C" collation the key compares bytes (memcmp) instead of calling the locale's strcoll,
-- which made each probe several times dearer under en_US.UTF-8 or C.UTF-8. Rebuilds the key.
ALTER TABLE usage_records ALTER COLUMN request_id SET DATA TYPE text COLLATE "C";
