package com.modelmarket.marketplace.auth;

import io.vertx.core.json.JsonObject;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.regex.Pattern;

/**
 * An ES256 token in JWS compact serialization, parsed strictly (RFC 7515 §3.1, RFC 7518 §3.4,
 * RFC 8725 §2.8): three segments of canonical base64url (no padding, no stray trailing bits), a
 * header and payload that are JSON objects, and a signature of exactly 64 bytes R‖S with
 * {@code 1 ≤ R < n} and {@code 1 ≤ S ≤ n/2}. ECDSA verifies both (R, S) and its twin (R, n − S);
 * accepting only the low-S one gives each token a single valid form, so the platform signs in
 * that form ({@link #lowS}).
 */
record JwsCompact(JsonObject header, JsonObject payload, byte[] signature) {

    /** The order of the P-256 group. */
    static final BigInteger N = new BigInteger("FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551", 16);
    static final BigInteger HALF_N = N.shiftRight(1);
    private static final int SIGNATURE_BYTES = 64;
    private static final Pattern BASE64URL = Pattern.compile("[A-Za-z0-9_-]+");
    private static final Base64.Encoder ENCODER = Base64.getUrlEncoder().withoutPadding();

    /** Parses {@code token}; {@link IllegalArgumentException} (or a JSON decode error) for anything else. */
    static JwsCompact parse(String token) {
        String[] parts = token.split("\\.", -1);
        if (parts.length != 3) {
            throw new IllegalArgumentException("not a JWS compact serialization");
        }
        JsonObject header = new JsonObject(new String(decode(parts[0]), StandardCharsets.UTF_8));
        JsonObject payload = new JsonObject(new String(decode(parts[1]), StandardCharsets.UTF_8));
        byte[] signature = decode(parts[2]);
        if (signature.length != SIGNATURE_BYTES) {
            throw new IllegalArgumentException("an ES256 signature is 64 bytes, not " + signature.length);
        }
        BigInteger r = new BigInteger(1, java.util.Arrays.copyOfRange(signature, 0, 32));
        BigInteger s = new BigInteger(1, java.util.Arrays.copyOfRange(signature, 32, 64));
        if (r.signum() == 0 || r.compareTo(N) >= 0 || s.signum() == 0 || s.compareTo(HALF_N) > 0) {
            throw new IllegalArgumentException("signature values out of range (or high S)");
        }
        return new JwsCompact(header, payload, signature);
    }

    /** The bytes of a canonical base64url segment: decoding and re-encoding must give it back. */
    static byte[] decode(String segment) {
        if (!BASE64URL.matcher(segment).matches()) {
            throw new IllegalArgumentException("not base64url without padding");
        }
        byte[] bytes = Base64.getUrlDecoder().decode(segment);
        if (!ENCODER.encodeToString(bytes).equals(segment)) {
            throw new IllegalArgumentException("not canonical base64url");
        }
        return bytes;
    }

    /** {@code token} with its signature's S replaced by n − S when S is in the upper half. */
    static String lowS(String token) {
        int dot = token.lastIndexOf('.');
        byte[] signature = Base64.getUrlDecoder().decode(token.substring(dot + 1));
        if (signature.length != SIGNATURE_BYTES) {
            throw new IllegalStateException("the JWT library signed " + signature.length + " bytes, not R||S");
        }
        BigInteger s = new BigInteger(1, java.util.Arrays.copyOfRange(signature, 32, 64));
        if (s.compareTo(HALF_N) <= 0) {
            return token;
        }
        byte[] twin = N.subtract(s).toByteArray(); // below n/2: at most 32 bytes once a sign byte is dropped
        byte[] out = signature.clone();
        java.util.Arrays.fill(out, 32, 64, (byte) 0);
        int len = Math.min(twin.length, 32);
        System.arraycopy(twin, twin.length - len, out, 64 - len, len);
        return token.substring(0, dot + 1) + ENCODER.encodeToString(out);
    }
}
