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
}
