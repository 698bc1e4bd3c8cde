package com.modelmarket.marketplace.support;

import com.modelmarket.marketplace.db.DbTarget;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;

/** Reading the database directly in tests, to compare the API with the raw rows. */
public final class Sql {

    private Sql() {
    }

    public static long count(DbTarget db, String sql, Object... params) {
        try (Connection c = DriverManager.getConnection(db.jdbcUrl(), db.user(), db.password());
             PreparedStatement q = c.prepareStatement(sql)) {
            for (int i = 0; i < params.length; i++) {
                q.setObject(i + 1, params[i]);
            }
            try (ResultSet rs = q.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        } catch (Exception e) {
            throw new IllegalStateException(sql, e);
        }
    }

    /** The first column of every row, as text, read as the test server's owner. */
    public static java.util.List<String> strings(DbTarget db, String sql, Object... params) {
        try (Connection c = DriverManager.getConnection(db.jdbcUrl(), db.user(), db.password());
             PreparedStatement q = c.prepareStatement(sql)) {
            for (int i = 0; i < params.length; i++) {
                q.setObject(i + 1, params[i]);
            }
            java.util.List<String> out = new java.util.ArrayList<>();
            try (ResultSet rs = q.executeQuery()) {
                while (rs.next()) {
                    out.add(rs.getString(1));
                }
            }
            return out;
        } catch (Exception e) {
            throw new IllegalStateException(sql, e);
        }
    }

    /** Runs one statement as the test server's owner (no row-level security), for fixtures. */
    public static void execute(DbTarget db, String sql, Object... params) {
        try (Connection c = DriverManager.getConnection(db.jdbcUrl(), db.user(), db.password());
             PreparedStatement q = c.prepareStatement(sql)) {
            for (int i = 0; i < params.length; i++) {
                q.setObject(i + 1, params[i]);
            }
            q.execute();
        } catch (Exception e) {
            throw new IllegalStateException(sql, e);
        }
    }

    /** Calls metered in all (each commit of the usage meter counted once: the rollups). */
    public static long meteredCalls(DbTarget db) {
        return count(db, "SELECT coalesce(sum(calls), 0) FROM usage_rollups");
    }

    /** Calls metered for one tenant. */
    public static long meteredCalls(DbTarget db, Object tenant) {
        return count(db, "SELECT coalesce(sum(calls), 0) FROM usage_rollups WHERE tenant_id = ?::uuid", tenant.toString());
    }

    /** The request ids of every metered call, from the usage commit log, one entry per counted call (so a duplicate shows). */
    public static java.util.List<String> meteredRequestIds(DbTarget db) {
        return meteredRequestIds(db, null);
    }

    /** The same for one tenant ({@code null}: all). */
    public static java.util.List<String> meteredRequestIds(DbTarget db, Object tenant) {
        String sql = "SELECT string_to_table(request_ids, chr(10)) FROM usage_commits"
                + (tenant == null ? "" : " WHERE tenant_id = '" + java.util.UUID.fromString(tenant.toString()) + "'");
        try (Connection c = DriverManager.getConnection(db.jdbcUrl(), db.user(), db.password());
             PreparedStatement q = c.prepareStatement(sql);
             ResultSet rs = q.executeQuery()) {
            java.util.List<String> ids = new java.util.ArrayList<>();
            while (rs.next()) {
                ids.add(rs.getString(1));
            }
            return ids;
        } catch (Exception e) {
            throw new IllegalStateException(sql, e);
        }
    }
}
