package com.modelmarket.marketplace.auth;

import static com.modelmarket.marketplace.support.Api.accessToken;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.modelmarket.marketplace.Platform;
import com.modelmarket.marketplace.db.DbTarget;
import com.modelmarket.marketplace.support.Api;
import com.modelmarket.marketplace.support.StartedPlatform;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** Reads every column of every table and finds no raw password, API-key secret or refresh token. */
@StartedPlatform
class SecretsAtRestTest {

    private static Platform platform;
    private static Api api;

    @BeforeAll
    static void start(Platform started, Api client) {
        platform = started;
        api = client;
    }

    @Test
    @DisplayName("no table holds a raw password, API-key secret or refresh token")
    void noSecretsStored() throws Exception {
        String ownerPassword = "owner-Pa55word-xyz";
        String memberPassword = "member-Pa55word-abc";
        JsonObject signUp = api.signUp("Secret Org", "owner@secret.test", ownerPassword);
        String owner = accessToken(signUp);
        api.post("/api/v1/members", owner, new JsonObject().put("email", "m@secret.test")
                .put("password", memberPassword).put("role", "member"));
        JsonObject login = api.login("m@secret.test", memberPassword);
        JsonObject refreshed = api.post("/api/v1/auth/refresh", null,
                new JsonObject().put("refreshToken", login.getString("refreshToken"))).bodyAsJsonObject();
        String keySecret = api.post("/api/v1/api-keys", owner, new JsonObject().put("name", "k"))
                .bodyAsJsonObject().getString("secret");

        List<String> secrets = List.of(ownerPassword, memberPassword, keySecret,
                signUp.getJsonObject("session").getString("refreshToken"), login.getString("refreshToken"),
                refreshed.getString("refreshToken"));
        List<String> cells = dumpAllTables(platform.services().database().target());
        assertTrue(cells.size() > 20, "the dump should hold the rows just written: " + cells.size());
        for (String secret : secrets) {
            String secretHex = HexFormat.of().formatHex(secret.getBytes(StandardCharsets.UTF_8));
            String randomPart = secret.length() > 12 ? secret.substring(4) : secret;
            for (String cell : cells) {
                assertFalse(cell.contains(randomPart) || cell.toLowerCase().contains(secretHex),
                        "a stored value contains a secret");
            }
        }
        assertEquals(2, cells.stream().filter(c -> c.startsWith("$argon2id$v=19$")).count(),
                "both users' passwords are stored as Argon2id hashes");
    }

    private static List<String> dumpAllTables(DbTarget db) throws Exception {
        List<String> cells = new ArrayList<>();
        try (Connection c = DriverManager.getConnection(db.jdbcUrl(), db.user(), db.password())) {
            List<String> tables = new ArrayList<>();
            try (ResultSet rs = c.createStatement().executeQuery(
                    "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")) {
                while (rs.next()) {
                    tables.add(rs.getString(1));
                }
            }
            for (String table : tables) {
                try (ResultSet rs = c.createStatement().executeQuery("SELECT * FROM \"" + table + "\"")) {
                    ResultSetMetaData meta = rs.getMetaData();
                    while (rs.next()) {
                        for (int i = 1; i <= meta.getColumnCount(); i++) {
                            Object value = rs.getObject(i);
                            if (value instanceof byte[] bytes) {
                                cells.add(HexFormat.of().formatHex(bytes));
                                cells.add(new String(bytes, StandardCharsets.UTF_8));
                            } else if (value != null) {
                                cells.add(value.toString());
                            }
                        }
                    }
                }
            }
        }
        return cells;
    }
}
