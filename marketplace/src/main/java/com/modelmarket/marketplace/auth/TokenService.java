package com.modelmarket.marketplace.auth;

import com.modelmarket.marketplace.config.AppConfig;
import com.modelmarket.marketplace.http.ApiException;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.JWTOptions;
import io.vertx.ext.auth.PubSecKeyOptions;
import io.vertx.ext.auth.authentication.TokenCredentials;
import io.vertx.ext.auth.jwt.JWTAuth;
import io.vertx.ext.auth.jwt.JWTAuthOptions;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
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

    /** A signed access token for a member's session. */
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
        return jwt.generateToken(claims, signOptions);
    }

    /**
     * Verifies {@code token} and returns the claims it proves. Fails with 401 for anything but a
     * well-formed, unexpired ES256 access token of this issuer and audience.
     */
    public Future<Claims> verify(String token) {
        JsonObject header;
        try {
            header = decodeSegment(token, 0);
        } catch (RuntimeException e) {
            return Future.failedFuture(ApiException.unauthorized("The access token is malformed"));
        }
        if (!ALGORITHM.equals(header.getString("alg")) || header.containsKey("crit")) {
            return Future.failedFuture(ApiException.unauthorized("The access token's algorithm is not accepted"));
        }
        return jwt.authenticate(new TokenCredentials(token))
                .recover(err -> Future.failedFuture(ApiException.unauthorized("The access token is not valid")))
                .compose(user -> checkClaims(decodeSegment(token, 1)));
    }

    private Future<Claims> checkClaims(JsonObject claims) {
        long now = System.currentTimeMillis() / 1000;
        try {
            if (!TOKEN_TYPE.equals(claims.getString("typ"))) {
                throw new IllegalArgumentException("not an access token");
            }
            if (!issuer.equals(claims.getString("iss")) || !audienceMatches(claims.getValue("aud"))) {
                throw new IllegalArgumentException("wrong issuer or audience");
            }
            Long exp = claims.getLong("exp");
            Long nbf = claims.getLong("nbf");
            if (exp == null || nbf == null || exp <= now || nbf > now) {
                throw new IllegalArgumentException("outside its validity period");
            }
            return Future.succeededFuture(new Claims(
                    UUID.fromString(claims.getString("sub")),
                    UUID.fromString(claims.getString("tid")),
                    Role.fromDb(claims.getString("role")),
                    UUID.fromString(claims.getString("sid"))));
        } catch (RuntimeException e) {
            return Future.failedFuture(ApiException.unauthorized("The access token is not valid"));
        }
    }

    private boolean audienceMatches(Object aud) {
        if (aud instanceof String s) {
            return audience.equals(s);
        }
        return aud instanceof JsonArray array && array.contains(audience);
    }

    private static JsonObject decodeSegment(String token, int index) {
        String[] parts = token.split("\\.", -1);
        if (parts.length != 3) {
            throw new IllegalArgumentException("not a JWS compact serialization");
        }
        byte[] bytes = Base64.getUrlDecoder().decode(parts[index]);
        return new JsonObject(new String(bytes, StandardCharsets.UTF_8));
    }

    /** What a verified access token says. */
    public record Claims(UUID userId, UUID tenantId, Role role, UUID sessionId) {
    }
}
