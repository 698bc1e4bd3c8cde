package com.modelmarket.marketplace.db;

import io.vertx.pgclient.PgConnectOptions;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;

/** Where the database is: the same server seen by JDBC (Flyway) and by the reactive client. */
public record DbTarget(String host, int port, String database, String user, String password) {

    /**
     * Parses {@code postgresql://user:password@host:port/database} (also {@code postgres://}).
     *
     * @throws IllegalArgumentException with the reason when the URL is not of that form
     */
    public static DbTarget parse(String url) {
        URI uri;
        try {
            uri = URI.create(url.trim());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("db.url is not a valid URL: " + e.getMessage(), e);
        }
        if (!"postgresql".equals(uri.getScheme()) && !"postgres".equals(uri.getScheme())) {
            throw new IllegalArgumentException("db.url must start with postgresql://");
        }
        if (uri.getHost() == null) {
            throw new IllegalArgumentException("db.url has no host");
        }
        String path = uri.getPath() == null ? "" : uri.getPath().replaceFirst("^/", "");
        if (path.isEmpty()) {
            throw new IllegalArgumentException("db.url has no database name");
        }
        String user = "postgres";
        String password = "";
        String userInfo = uri.getRawUserInfo();
        if (userInfo != null) {
            int colon = userInfo.indexOf(':');
            user = decode(colon < 0 ? userInfo : userInfo.substring(0, colon));
            password = colon < 0 ? "" : decode(userInfo.substring(colon + 1));
        }
        return new DbTarget(uri.getHost(), uri.getPort() < 0 ? 5432 : uri.getPort(), path, user, password);
    }

    private static String decode(String s) {
        return URLDecoder.decode(s, StandardCharsets.UTF_8);
    }

    public String jdbcUrl() {
        return "jdbc:postgresql://" + host + ":" + port + "/" + database;
    }

    public PgConnectOptions connectOptions() {
        return new PgConnectOptions()
                .setHost(host)
                .setPort(port)
                .setDatabase(database)
                .setUser(user)
                .setPassword(password)
                .setCachePreparedStatements(true)
                .setPreparedStatementCacheMaxSize(256);
    }

    /** Same server, another database. */
    public DbTarget withDatabase(String name) {
        return new DbTarget(host, port, name, user, password);
    }

    @Override
    public String toString() {
        return "postgresql://" + user + "@" + host + ":" + port + "/" + database;
    }
}
