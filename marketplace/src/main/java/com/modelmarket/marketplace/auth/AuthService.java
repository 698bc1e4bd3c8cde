package com.modelmarket.marketplace.auth;

import com.modelmarket.marketplace.tenants.Role;
import com.modelmarket.marketplace.db.TenantScope;
import com.modelmarket.marketplace.errors.TooManyAttemptsException;
import com.modelmarket.marketplace.errors.ConflictException;
import com.modelmarket.marketplace.errors.UnauthorizedException;
import com.modelmarket.marketplace.tenants.Member;
import com.modelmarket.marketplace.tenants.Tenant;
import com.modelmarket.marketplace.tenants.TenantRepository;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.SqlClient;
import java.time.Duration;
import java.util.Locale;
import java.util.UUID;

/** Sign-up, login, refresh-token rotation with replay detection, logout. */
public final class AuthService {

    static final String REFRESH_PREFIX = "mmr_";

    private final Vertx vertx;
    private final TenantRepository tenants;
    private final RefreshTokenRepository refreshTokens;
    private final TokenService tokens;
    private final PasswordHasher hasher;
    private final LoginThrottle throttle;
    private final Duration refreshTtl;

    public AuthService(Vertx vertx, TenantRepository tenants, RefreshTokenRepository refreshTokens,
                       TokenService tokens, PasswordHasher hasher, LoginThrottle throttle, Duration refreshTtl) {
        this.vertx = vertx;
        this.tenants = tenants;
        this.refreshTokens = refreshTokens;
        this.tokens = tokens;
        this.hasher = hasher;
        this.throttle = throttle;
        this.refreshTtl = refreshTtl;
    }

    /** What sign-up creates: the tenant, its owner, and a first session. */
    public record SignupResult(Tenant tenant, Member owner, Session session) {
    }

    public Future<SignupResult> signUp(String organisation, String email, String displayName, String password) {
        return hashPassword(password)
                .compose(hash -> freeSlug(organisation)
                        // the tenant does not exist yet: create it, then work in its scope
                        .compose(slug -> TenantScope.visitor(tenants.pool(), tx -> tenants.insertTenant(tx, organisation, slug)
                                .compose(tenant -> TenantScope.enter(tx, tenant.id())
                                        .compose(v -> tenants.insertUser(tx, tenant.id(), email, displayName, hash, Role.OWNER))
                                        .compose(owner -> openSession(tx, owner.id(), tenant.id(), Role.OWNER)
                                                .map(session -> new SignupResult(tenant, owner, session)))))))
                .recover(AuthService::mapUniqueViolation);
    }

    public Future<Session> login(String email, String password, String clientAddress) {
        long wait = throttle.retryAfterSeconds(email, clientAddress);
        if (wait > 0) {
            return Future.failedFuture(new TooManyAttemptsException(
                    "Too many failed logins; try again in " + wait + " seconds", wait));
        }
        return tenants.findCredentials(email).compose(found -> vertx.executeBlocking(() -> {
            if (found.isEmpty()) {
                hasher.burn(password);
                return false;
            }
            return hasher.verify(password, found.get().passwordHash());
        }, false).compose(ok -> {
            if (!ok) {
                throttle.recordFailure(email, clientAddress);
                return Future.failedFuture(new UnauthorizedException("Wrong e-mail address or password"));
            }
            throttle.recordSuccess(email, clientAddress);
            TenantRepository.Credentials c = found.get();
            return TenantScope.tenant(tenants.pool(), c.tenantId(), tx -> openSession(tx, c.userId(), c.tenantId(), c.role()));
        }));
    }

    /**
     * Exchanges a refresh token for a new pair. A token that was already used is a replay: the
     * whole session is revoked and the call fails. The token alone names the tenant, so the lookup
     * runs in the system scope, every statement filtered by the token's hash or its session.
     */
    public Future<Session> refresh(String refreshToken) {
        byte[] hash = Secrets.sha256(refreshToken);
        return TenantScope.system(tenants.pool(), tx -> refreshTokens.consume(tx, hash).compose(consumed -> {
            if (consumed.isEmpty()) {
                return Future.succeededFuture((Session) null);
            }
            var c = consumed.get();
            return tenants.activeSessionRole(tx, c.tenantId(), c.userId(), c.familyId()).compose(role -> {
                if (role.isEmpty()) {
                    return Future.succeededFuture((Session) null);
                }
                return issue(tx, c.familyId(), c.userId(), c.tenantId(), role.get());
            });
        })).compose(session -> session != null ? Future.succeededFuture(session)
                : refreshTokens.revokeFamilyIfReplayed(hash).compose(replayed -> Future.failedFuture(
                        new UnauthorizedException(replayed
                                ? "This refresh token was already used; the session has been revoked"
                                : "The refresh token is not valid"))));
    }

    /** Ends the caller's session: its refresh tokens stop working, and so do its access tokens. */
    public Future<Void> logout(Principal principal) {
        return refreshTokens.revokeFamily(principal.tenantId(), principal.sessionId());
    }

    public Future<String> hashPassword(String password) {
        return vertx.executeBlocking(() -> hasher.hash(password), false);
    }

    private Future<Session> openSession(SqlClient tx, UUID userId, UUID tenantId, Role role) {
        return issue(tx, UUID.randomUUID(), userId, tenantId, role);
    }

    private Future<Session> issue(SqlClient tx, UUID familyId, UUID userId, UUID tenantId, Role role) {
        String refresh = Secrets.token(REFRESH_PREFIX, 32);
        return refreshTokens.insert(tx, familyId, tenantId, userId, Secrets.sha256(refresh), refreshTtl)
                .map(v -> new Session(userId, tenantId, role,
                        tokens.issueAccessToken(userId, tenantId, role, familyId), refresh,
                        tokens.accessTtl().toSeconds()));
    }

    private Future<String> freeSlug(String organisation) {
        String base = slugOf(organisation);
        return tenants.slugTaken(base)
                .map(taken -> !taken ? base
                        : base.substring(0, Math.min(base.length(), 50)) + "-" + java.util.HexFormat.of()
                        .formatHex(Secrets.randomBytes(3)));
    }

    static String slugOf(String name) {
        String slug = name.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", "-").replaceAll("(^-+|-+$)", "");
        if (slug.length() > 50) {
            slug = slug.substring(0, 50).replaceAll("-+$", "");
        }
        return slug.isEmpty() ? "org" : slug;
    }

    static <T> Future<T> mapUniqueViolation(Throwable err) {
        if (err instanceof PgException pg && "23505".equals(pg.getSqlState())) {
            String constraint = pg.getConstraint() == null ? "" : pg.getConstraint();
            if (constraint.contains("email")) {
                return Future.failedFuture(new ConflictException("An account with this e-mail address already exists"));
            }
            return Future.failedFuture(new ConflictException("A resource with these unique values already exists"));
        }
        return Future.failedFuture(err);
    }
}
