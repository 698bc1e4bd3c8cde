package com.modelmarket.marketplace.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.modelmarket.marketplace.db.DbTarget;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {

    @Test
    @DisplayName("defaults need no configuration: port 8080, ./data, embedded database")
    void defaults() {
        AppConfig c = ConfigLoader.load(Map.of(), Map.of());
        assertEquals(8080, c.httpPort());
        assertEquals(Path.of("./data").toAbsolutePath().normalize(), c.dataDir());
        assertEquals(Optional.empty(), c.dbUrl());
        assertTrue(c.accessTokenTtl().toSeconds() <= 900);
    }

    @Test
    @DisplayName("the MM_CONFIG file overrides defaults and MM_* variables override the file")
    void layering(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("mm.properties");
        Files.writeString(file, "http.port=9000\ndata.dir=/srv/mm\n");
        AppConfig c = ConfigLoader.load(Map.of("MM_CONFIG", file.toString(), "MM_HTTP_PORT", "9100",
                "MM_DB_URL", "postgresql://u:p@db.internal:6543/mm"), Map.of());
        assertEquals(9100, c.httpPort());
        assertEquals(Path.of("/srv/mm"), c.dataDir());
        assertEquals(Optional.of("postgresql://u:p@db.internal:6543/mm"), c.dbUrl());
        assertEquals("MM_HTTP_PORT", ConfigLoader.envName("http.port"));
        assertEquals("MM_DB_POOL_SIZE", ConfigLoader.envName("db.pool-size"));
    }

    @Test
    @DisplayName("bad values are refused with the key's name")
    void badValues() {
        var e = assertThrows(IllegalArgumentException.class, () -> ConfigLoader.load(Map.of("MM_HTTP_PORT", "eighty"), Map.of()));
        assertTrue(e.getMessage().contains("MM_HTTP_PORT"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ConfigLoader.load(Map.of("MM_JWT_ACCESS_TTL_SECONDS", "3600"), Map.of()));
        assertThrows(IllegalArgumentException.class, () -> ConfigLoader.load(Map.of("MM_CONFIG", "/no/such/file"), Map.of()));
    }

    @Test
    @DisplayName("database URLs are parsed, with percent-encoded credentials; other schemes are refused")
    void dbUrls() {
        DbTarget t = DbTarget.parse("postgresql://mm%40app:p%3Ass@db.example:6543/market");
        assertEquals(new DbTarget("db.example", 6543, "market", "mm@app", "p:ss"), t);
        assertEquals("jdbc:postgresql://db.example:6543/market", t.jdbcUrl());
        assertEquals(5432, DbTarget.parse("postgres://u@h/d").port());
        assertThrows(IllegalArgumentException.class, () -> DbTarget.parse("mysql://u@h/d"));
        assertThrows(IllegalArgumentException.class, () -> DbTarget.parse("postgresql://u@h/"));
    }
}
