import type mysql from 'mysql2/promise';
import type pg from 'pg';
import type { CollectionRows } from './plan-collections.js';

/**
 * The tables of the collection families (plan-collections.ts), in the schema the demo owns:
 * orders, follows, posts and likes in PostgreSQL; scores and variants in MariaDB. Times are
 * offsets from the database's now (MariaDB's in UTC, as the mysql loader reads DATETIME).
 */
export async function seedCollectionsPostgres(client: pg.Client, rows: CollectionRows, schema: string): Promise<void> {
  await client.query(`DROP TABLE IF EXISTS ${schema}.orders, ${schema}.follows, ${schema}.likes, ${schema}.posts`);
  await client.query(`CREATE TABLE ${schema}.orders (
    id bigint PRIMARY KEY, user_id bigint NOT NULL, total numeric(10,2) NOT NULL, status text NOT NULL,
    created_at timestamptz(3) NOT NULL, updated_at timestamptz(3) NOT NULL)`);
  await client.query(`CREATE INDEX ON ${schema}.orders (user_id)`);
  await client.query(`CREATE TABLE ${schema}.follows (user_id bigint NOT NULL, followee_id bigint NOT NULL, PRIMARY KEY (user_id, followee_id))`);
  await client.query(`CREATE TABLE ${schema}.posts (id bigint PRIMARY KEY)`);
  await client.query(`CREATE TABLE ${schema}.likes (post_id bigint NOT NULL REFERENCES ${schema}.posts (id), user_id bigint NOT NULL, PRIMARY KEY (post_id, user_id))`);
  const o = rows.orders;
  await client.query(
    `INSERT INTO ${schema}.orders (id, user_id, total, status, created_at, updated_at)
     SELECT id, user_id, total, status, now() - make_interval(secs => created), now() - make_interval(secs => changed)
     FROM unnest($1::bigint[], $2::bigint[], $3::numeric[], $4::text[], $5::int[], $6::int[]) AS t(id, user_id, total, status, created, changed)`,
    [o.map((r) => r.id), o.map((r) => r.userId), o.map((r) => r.total), o.map((r) => r.status), o.map((r) => r.createdAgoS), o.map((r) => r.changedAgoS)],
  );
  const f = rows.follows;
  await client.query(`INSERT INTO ${schema}.follows SELECT * FROM unnest($1::bigint[], $2::bigint[])`, [f.map((r) => r.userId), f.map((r) => r.followeeId)]);
  await client.query(`INSERT INTO ${schema}.posts SELECT * FROM unnest($1::bigint[])`, [rows.posts]);
  const l = rows.likes;
  await client.query(`INSERT INTO ${schema}.likes SELECT * FROM unnest($1::bigint[], $2::bigint[])`, [l.map((r) => r.postId), l.map((r) => r.userId)]);
}

export async function seedCollectionsMysql(conn: mysql.Connection, rows: CollectionRows, schema: string): Promise<void> {
  await conn.query(`DROP TABLE IF EXISTS ${schema}.scores, ${schema}.variants`);
  await conn.query(`CREATE TABLE ${schema}.scores (
    season INT NOT NULL, player VARCHAR(64) NOT NULL, points INT NOT NULL, updated_at DATETIME(3) NOT NULL,
    PRIMARY KEY (season, player))`);
  await conn.query(`CREATE TABLE ${schema}.variants (
    sku VARCHAR(48) PRIMARY KEY, product_sku VARCHAR(32) NOT NULL, color VARCHAR(16) NOT NULL, price DECIMAL(10,2) NOT NULL,
    KEY (product_sku))`);
  const scores = rows.scores.map((s) => [s.season, s.player, s.points, s.changedAgoS]);
  await conn.query(
    `INSERT INTO ${schema}.scores (season, player, points, updated_at)
     SELECT season, player, points, UTC_TIMESTAMP(3) - INTERVAL ago SECOND FROM JSON_TABLE(?, '$[*]' COLUMNS (
       season INT PATH '$[0]', player VARCHAR(64) PATH '$[1]', points INT PATH '$[2]', ago INT PATH '$[3]')) AS t`,
    [JSON.stringify(scores)],
  );
  const variants = rows.variants.map((v) => [v.sku, v.productSku, v.color, v.price]);
  await conn.query(
    `INSERT INTO ${schema}.variants (sku, product_sku, color, price)
     SELECT sku, product_sku, color, price FROM JSON_TABLE(?, '$[*]' COLUMNS (
       sku VARCHAR(48) PATH '$[0]', product_sku VARCHAR(32) PATH '$[1]', color VARCHAR(16) PATH '$[2]', price DECIMAL(10,2) PATH '$[3]')) AS t`,
    [JSON.stringify(variants)],
  );
}
