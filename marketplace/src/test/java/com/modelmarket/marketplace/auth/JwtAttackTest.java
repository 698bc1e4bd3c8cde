package com.modelmarket.marketplace.auth;

import static com.modelmarket.marketplace.support.Api.assertProblem;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.modelmarket.marketplace.Platform;
import com.modelmarket.marketplace.support.Api;
import com.modelmarket.marketplace.support.TestPlatform;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Forged and damaged access tokens are refused with 401; a correctly made one is accepted. */
@ExtendWith(VertxExtension.class)
class JwtAttackTest {

    private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();
    private static Platform platform;
    private static Api api;
    private static PrivateKey serverKey;
    private static String serverPublicPem;
    private static JsonObject session;

    @BeforeAll
    static void start(Vertx vertx) throws Exception {
        platform = TestPlatform.startOnFreshDatabase(vertx);
        api = new Api(vertx, platform.port());
        var keys = platform.services().config().dataDir().resolve("keys");
        serverKey = readPrivateKey(Files.readString(keys.resolve("jwt-es256-private.pem")));
        serverPublicPem = Files.readString(keys.resolve("jwt-es256-public.pem"));
        session = api.signUp("Jwt Org", "jwt@org.test", "jwt-password-1").getJsonObject("session");
    }

    @AfterAll
    static void stop() {
        api.close();
        TestPlatform.stop(platform);
    }

    /** Valid claims for the signed-up owner, as the server would issue them. */
    private static JsonObject claims() {
        String real = session.getString("accessToken");
        JsonObject claims = new JsonObject(new String(Base64.getUrlDecoder().decode(real.split("\\.")[1]),
                StandardCharsets.UTF_8));
        long now = System.currentTimeMillis() / 1000;
        return claims.put("iat", now).put("nbf", now).put("exp", now + 600);
    }

    private static JsonObject with(Consumer<JsonObject> edit) {
        JsonObject c = claims();
        edit.accept(c);
        return c;
    }

    private static String es256(JsonObject claims, PrivateKey key) throws Exception {
        String signingInput = B64.encodeToString(new JsonObject().put("alg", "ES256").put("typ", "JWT").encode()
                .getBytes(StandardCharsets.UTF_8)) + "." + B64.encodeToString(claims.encode().getBytes(StandardCharsets.UTF_8));
        Signature signer = Signature.getInstance("SHA256withECDSAinP1363Format");
        signer.initSign(key);
        signer.update(signingInput.getBytes(StandardCharsets.US_ASCII));
        return signingInput + "." + B64.encodeToString(signer.sign());
    }

    private static void assertRejected(String token) {
        assertProblem(api.get("/api/v1/me", token), 401);
    }

    @Test
    @DisplayName("control: a token made with the server's key and valid claims is accepted")
    void control() throws Exception {
        assertEquals(200, api.get("/api/v1/me", es256(claims(), serverKey)).statusCode());
    }

    @Test
    @DisplayName("alg none is refused")
    void algNone() {
        String token = B64.encodeToString("{\"alg\":\"none\",\"typ\":\"JWT\"}".getBytes(StandardCharsets.UTF_8)) + "."
                + B64.encodeToString(claims().encode().getBytes(StandardCharsets.UTF_8)) + ".";
        assertRejected(token);
        assertRejected(token.substring(0, token.length() - 1));
    }

    @Test
    @DisplayName("HS256 signed with the server's public key as the HMAC secret is refused")
    void hs256WithPublicKey() throws Exception {
        String signingInput = B64.encodeToString("{\"alg\":\"HS256\",\"typ\":\"JWT\"}".getBytes(StandardCharsets.UTF_8))
                + "." + B64.encodeToString(claims().encode().getBytes(StandardCharsets.UTF_8));
        byte[] mac = Secrets.hmacSha256(serverPublicPem.getBytes(StandardCharsets.US_ASCII), signingInput);
        assertRejected(signingInput + "." + B64.encodeToString(mac));
    }

    @Test
    @DisplayName("a token signed by another key is refused")
    void otherKey() throws Exception {
        assertRejected(es256(claims(), KeyMaterial.generateEs256().getPrivate()));
    }

    @Test
    @DisplayName("expired, not-yet-valid and exp-less tokens are refused")
    void validityPeriod() throws Exception {
        long now = System.currentTimeMillis() / 1000;
        assertRejected(es256(with(c -> c.put("iat", now - 3600).put("nbf", now - 3600).put("exp", now - 60)), serverKey));
        assertRejected(es256(with(c -> c.put("nbf", now + 3600).put("exp", now + 7200)), serverKey));
        assertRejected(es256(with(c -> c.remove("exp")), serverKey));
    }

    @Test
    @DisplayName("wrong issuer or audience is refused")
    void issuerAndAudience() throws Exception {
        assertRejected(es256(with(c -> c.put("iss", "someone-else")), serverKey));
        assertRejected(es256(with(c -> c.put("aud", "another-api")), serverKey));
        assertRejected(es256(with(c -> c.remove("aud")), serverKey));
    }

    @Test
    @DisplayName("a payload edited after signing is refused")
    void editedPayload() {
        String[] parts = session.getString("accessToken").split("\\.");
        JsonObject payload = new JsonObject(new String(Base64.getUrlDecoder().decode(parts[1]), StandardCharsets.UTF_8));
        payload.put("role", "owner").put("exp", payload.getLong("exp") + 86_400);
        assertRejected(parts[0] + "." + B64.encodeToString(payload.encode().getBytes(StandardCharsets.UTF_8)) + "." + parts[2]);
    }

    @Test
    @DisplayName("a refresh token, an API-key-looking string or garbage used as an access token is refused")
    void wrongKindsOfToken() {
        assertRejected(session.getString("refreshToken"));
        assertRejected("mmk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
        assertRejected("a.b.c");
        assertRejected("not-a-token");
        assertProblem(api.get("/api/v1/me", null), 401);
    }

    private static PrivateKey readPrivateKey(String pem) throws Exception {
        String base64 = pem.replaceAll("-----[A-Z ]+-----", "").replaceAll("\\s", "");
        return KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(Base64.getDecoder().decode(base64)));
    }
}
