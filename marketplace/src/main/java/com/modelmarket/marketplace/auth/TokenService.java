package com.modelmarket.marketplace.auth;

import com.modelmarket.marketplace.tenants.Role;
import com.modelmarket.marketplace.config.AppConfig;
import com.modelmarket.marketplace.errors.UnauthorizedException;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.JWTOptions;
import io.vertx.ext.auth.PubSecKeyOptions;
import io.vertx.ext.auth.authentication.TokenCredentials;
import io.vertx.ext.auth.jwt.JWTAuth;
import io.vertx.ext.auth.jwt.JWTAuthOptions;
import java.time.Duration;
import java.util.List;
import java.util.UUID;

/**
 * Issues and verifies access tokens: ES256 JWTs, algorithm pinned, with {@code iss}, {@code aud},
 * {@code exp} and {@code nbf} required and checked. Refresh tokens are opaque and never JWTs.
 */
public final class TokenService {

    static final String ALGORITHM = "ES256";
    static final String TOKEN_TYPE = "access";

    private final JWTAuth jwt;
    private final JWTOptions signOptions;
    private final String issuer;
    private final String audience;
    private final Duration accessTtl;

    public TokenService(Vertx vertx, AppConfig config, KeyMaterial keys) {
        this.issuer = config.jwtIssuer();
        this.audience = config.jwtAudience();
        this.accessTtl = config.accessTokenTtl();
        this.signOptions = new JWTOptions()
                .setAlgorithm(ALGORITHM)
                .setIssuer(issuer)
                .setAudience(List.of(audience))
                .setExpiresInSeconds((int) accessTtl.toSeconds());
        this.jwt = JWTAuth.create(vertx, new JWTAuthOptions()
                .addPubSecKey(new PubSecKeyOptions().setAlgorithm(ALGORITHM).setBuffer(keys.jwtPrivatePem()))
                .addPubSecKey(new PubSecKeyOptions().setAlgorithm(ALGORITHM).setBuffer(keys.jwtPublicPem()))
                .setJWTOptions(new JWTOptions()
                        .setAlgorithm(ALGORITHM)
                        .setIssuer(issuer)
                        .setAudience(List.of(audience))
                        .setLeeway(0)));
    }

    public Duration accessTtl() {
        return accessTtl;
    }

    /** A signed access token for a member's session, its signature in low-S form ({@link JwsCompact}). */
    public String issueAccessToken(UUID userId, UUID tenantId, Role role, UUID sessionId) {
        long now = System.currentTimeMillis() / 1000;
        JsonObject claims = new JsonObject()
                .put("sub", userId.toString())
                .put("tid", tenantId.toString())
                .put("role", role.dbName())
                .put("sid", sessionId.toString())
                .put("typ", TOKEN_TYPE)
                .put("nbf", now)
                .put("jti", UUID.randomUUID().toString());
        return JwsCompact.lowS(jwt.generateToken(claims, signOptions));
    }

    /**
     * Verifies {@code token} and returns the claims it proves. Fails with 401 for anything but a
     * well-formed, unexpired ES256 access token of this issuer and audience: the token is parsed
     * strictly first (canonical base64url, a 64-byte low-S signature, every claim of its JSON type),
     * so the JWT library only ever sees tokens of the one shape the platform issues.
     */
    public Future<Claims> verify(String token) {
        JwsCompact parsed;
        try {
            parsed = JwsCompact.parse(token);
        } catch (IllegalArgumentException | io.vertx.core.json.DecodeException e) {
            return Future.failedFuture(new UnauthorizedException("The access token is malformed"));
        }
        if (!ALGORITHM.equals(parsed.header().getValue("alg")) || parsed.header().containsKey("crit")) {
            return Future.failedFuture(new UnauthorizedException("The access token's algorithm is not accepted"));
        }
        Claims claims;
        try {
            claims = checkClaims(parsed.payload());
        } catch (RuntimeException e) {
            return Future.failedFuture(new UnauthorizedException("The access token is not valid"));
        }
        Future<?> verified;
        try {
            verified = jwt.authenticate(new TokenCredentials(token));
        } catch (RuntimeException e) { // the library's own claim checks, should they throw
            verified = Future.failedFuture(e);
        }
        return verified
                .recover(err -> Future.failedFuture(new UnauthorizedException("The access token is not valid")))
                .map(user -> claims);
    }

    /** The claims of an access token, each of its JSON type; anything else throws. */
    private Claims checkClaims(JsonObject claims) {
        long now = System.currentTimeMillis() / 1000;
        string(claims, "typ");
        if (!TOKEN_TYPE.equals(claims.getString("typ"))) {
            throw new IllegalArgumentException("not an access token");
        }
        if (!issuer.equals(string(claims, "iss")) || !audienceMatches(claims.getValue("aud"))) {
            throw new IllegalArgumentException("wrong issuer or audience");
        }
        long exp = seconds(claims, "exp");
        long nbf = seconds(claims, "nbf");
        if (claims.containsKey("iat")) {
            seconds(claims, "iat");
        }
        if (claims.containsKey("jti")) {
            string(claims, "jti");
        }
        if (exp <= now || nbf > now) {
            throw new IllegalArgumentException("outside its validity period");
        }
        return new Claims(UUID.fromString(string(claims, "sub")), UUID.fromString(string(claims, "tid")),
                Role.fromDb(string(claims, "role")), UUID.fromString(string(claims, "sid")));
    }

    private static String string(JsonObject claims, String name) {
        if (!(claims.getValue(name) instanceof String s)) {
            throw new IllegalArgumentException(name + " must be a string");
        }
        return s;
    }

    /** A NumericDate as RFC 7519 §2 has it, limited to whole seconds a {@code long} holds. */
    private static long seconds(JsonObject claims, String name) {
        Object value = claims.getValue(name);
        if (!(value instanceof Integer || value instanceof Long) || ((Number) value).longValue() < 0) {
            throw new IllegalArgumentException(name + " must be a non-negative whole number of seconds");
        }
        return ((Number) value).longValue();
    }

    private boolean audienceMatches(Object aud) {
        if (aud instanceof String s) {
            return audience.equals(s);
        }
        if (!(aud instanceof JsonArray array)) {
            return false;
        }
        for (Object entry : array) {
            if (!(entry instanceof String)) {
                return false;
            }
        }
        return array.contains(audience);
    }

    /** What a verified access token says. */
    public record Claims(UUID userId, UUID tenantId, Role role, UUID sessionId) {
    }
}
