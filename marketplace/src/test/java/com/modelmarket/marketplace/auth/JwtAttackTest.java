package com.modelmarket.marketplace.auth;

import static com.modelmarket.marketplace.support.Api.assertProblem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.modelmarket.marketplace.Platform;
import com.modelmarket.marketplace.support.Api;
import com.modelmarket.marketplace.support.StartedPlatform;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.math.BigInteger;
import java.util.Arrays;
import java.util.List;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.function.Consumer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** Forged and damaged access tokens are refused with 401; a correctly made one is accepted. */
@StartedPlatform
class JwtAttackTest {

    private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();
    private static Platform platform;
    private static Api api;
    private static PrivateKey serverKey;
    private static String serverPublicPem;
    private static JsonObject session;

    @BeforeAll
    static void start(Platform started, Api client) throws Exception {
        platform = started;
        api = client;
        var keys = platform.services().config().dataDir().resolve("keys");
        serverKey = readPrivateKey(Files.readString(keys.resolve("jwt-es256-private.pem")));
        serverPublicPem = Files.readString(keys.resolve("jwt-es256-public.pem"));
        session = api.signUp("Jwt Org", "jwt@org.test", "jwt-password-1").getJsonObject("session");
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
        return JwsCompact.lowS(signingInput + "." + B64.encodeToString(signer.sign()));
    }

    /** A valid token with its signature segment replaced by {@code signature}. */
    private static String withSignature(String token, byte[] signature) {
        return token.substring(0, token.lastIndexOf('.') + 1) + B64.encodeToString(signature);
    }

    private static byte[] signature(String token) {
        return Base64.getUrlDecoder().decode(token.substring(token.lastIndexOf('.') + 1));
    }

    /** R||S as the DER SEQUENCE of two INTEGERs that Java's plain SHA256withECDSA produces. */
    private static byte[] der(byte[] p1363) {
        byte[] r = new BigInteger(1, Arrays.copyOfRange(p1363, 0, 32)).toByteArray();
        byte[] s = new BigInteger(1, Arrays.copyOfRange(p1363, 32, 64)).toByteArray();
        byte[] out = new byte[6 + r.length + s.length];
        out[0] = 0x30;
        out[1] = (byte) (4 + r.length + s.length);
        out[2] = 0x02;
        out[3] = (byte) r.length;
        System.arraycopy(r, 0, out, 4, r.length);
        out[4 + r.length] = 0x02;
        out[5 + r.length] = (byte) s.length;
        System.arraycopy(s, 0, out, 6 + r.length, s.length);
        return out;
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

    @Test
    @DisplayName("the signature must be canonical base64url of exactly 64 bytes R||S with low S: trailing byte, DER, high-S twin, padding, non-canonical character all 401")
    void strictSignature() throws Exception {
        String good = es256(claims(), serverKey);
        assertEquals(200, api.get("/api/v1/me", good).statusCode(), "control");
        byte[] sig = signature(good);

        assertRejected(withSignature(good, Arrays.copyOf(sig, 65)));                        // a trailing byte
        assertRejected(withSignature(good, Arrays.copyOf(sig, 63)));                        // one byte short
        assertRejected(withSignature(good, der(sig)));                                      // DER-encoded
        BigInteger s = new BigInteger(1, Arrays.copyOfRange(sig, 32, 64));
        byte[] twin = sig.clone();
        byte[] high = JwsCompact.N.subtract(s).toByteArray();
        Arrays.fill(twin, 32, 64, (byte) 0);
        System.arraycopy(high, Math.max(0, high.length - 32), twin, 64 - Math.min(32, high.length), Math.min(32, high.length));
        assertRejected(withSignature(good, twin));                                          // the high-S twin
        assertRejected(good + "=");                                                         // padding
        assertRejected(good + "==");
        String encoded = good.substring(good.lastIndexOf('.') + 1);
        char last = encoded.charAt(encoded.length() - 1);
        // 64 bytes are 85 full characters and 2 bits: the last character's low 4 bits must be zero
        String alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        char nonCanonical = alphabet.charAt(alphabet.indexOf(last) | 0x01);
        assertEquals(Arrays.toString(sig), Arrays.toString(Base64.getUrlDecoder().decode(
                encoded.substring(0, encoded.length() - 1) + nonCanonical)), "decodes to the same bytes");
        assertRejected(good.substring(0, good.length() - 1) + nonCanonical);
        // the standard alphabet instead of the URL-safe one; a signature that happens to hold no '-' or
        // '_' (about one in fifteen) gets a '+' for its first character, which base64url never uses
        String standard = encoded.replace('-', '+').replace('_', '/');
        if (standard.equals(encoded)) {
            standard = "+" + encoded.substring(1);
        }
        assertRejected(good.substring(0, good.lastIndexOf('.') + 1) + standard);
        assertRejected(withSignature(good, new byte[64]));                                   // R = S = 0
    }

    @Test
    @DisplayName("every token the server issues carries a low-S signature (so refusing high S refuses none of its own)")
    void issuedTokensAreLowS() {
        for (int i = 0; i < 24; i++) {
            String token = api.login("jwt@org.test", "jwt-password-1").getString("accessToken");
            BigInteger s = new BigInteger(1, Arrays.copyOfRange(signature(token), 32, 64));
            assertTrue(s.compareTo(JwsCompact.HALF_N) <= 0, "high S in an issued token");
            assertEquals(200, api.get("/api/v1/me", token).statusCode());
        }
    }

    @Test
    @DisplayName("correctly signed tokens whose claims have the wrong JSON type answer 401, never 500")
    void claimTypeConfusion() throws Exception {
        long now = System.currentTimeMillis() / 1000;
        List<Consumer<JsonObject>> edits = List.of(
                c -> c.put("exp", Long.toString(now + 600)),
                c -> c.put("exp", new JsonArray().add(now + 600)),
                c -> c.put("exp", new JsonObject().put("n", now + 600)),
                c -> c.put("exp", (double) (now + 600) + 0.5),
                c -> c.put("exp", 1e300),
                c -> c.put("exp", new BigInteger("18446744073709551621")),
                c -> c.put("exp", true),
                c -> c.put("nbf", "0"),
                c -> c.put("iat", "now"),
                c -> c.put("sub", 42),
                c -> c.put("tid", new JsonArray()),
                c -> c.put("sid", new JsonObject()),
                c -> c.put("role", new JsonArray().add("owner")),
                c -> c.put("typ", 1),
                c -> c.put("iss", new JsonArray().add("modelmarket")),
                c -> c.put("aud", new JsonObject().put("aud", "modelmarket-api")),
                c -> c.put("aud", new JsonArray().add(7).add("modelmarket-api")),
                c -> c.put("jti", 5));
        for (Consumer<JsonObject> edit : edits) {
            assertRejected(es256(with(edit), serverKey));
        }
        // a payload or header that is not a JSON object at all
        String body = B64.encodeToString("[1,2]".getBytes(StandardCharsets.UTF_8));
        String header = B64.encodeToString("{\"alg\":\"ES256\"}".getBytes(StandardCharsets.UTF_8));
        assertRejected(header + "." + body + "." + B64.encodeToString(new byte[64]));
        assertRejected(B64.encodeToString("\"ES256\"".getBytes(StandardCharsets.UTF_8)) + "." + body + "." + B64.encodeToString(new byte[64]));
        assertRejected(B64.encodeToString("{\"alg\":[\"ES256\"]}".getBytes(StandardCharsets.UTF_8)) + "."
                + B64.encodeToString(claims().encode().getBytes(StandardCharsets.UTF_8)) + "." + B64.encodeToString(new byte[64]));
    }

    private static PrivateKey readPrivateKey(String pem) throws Exception {
        String base64 = pem.replaceAll("-----[A-Z ]+-----", "").replaceAll("\\s", "");
        return KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(Base64.getDecoder().decode(base64)));
    }
}
