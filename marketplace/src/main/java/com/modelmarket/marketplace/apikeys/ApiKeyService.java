package com.modelmarket.marketplace.apikeys;

import com.modelmarket.marketplace.audit.Actor;
import com.modelmarket.marketplace.audit.AuditLog;
import com.modelmarket.marketplace.auth.Principal;
import com.modelmarket.marketplace.auth.Secrets;
import com.modelmarket.marketplace.db.TenantScope;
import com.modelmarket.marketplace.util.SingleFlight;
import com.modelmarket.marketplace.errors.ForbiddenException;
import com.modelmarket.marketplace.errors.InvalidFieldException;
import com.modelmarket.marketplace.errors.NotFoundException;
import com.modelmarket.marketplace.errors.UnauthorizedException;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

/**
 * API keys: the credential programs use for inference. A key is {@code mmk_} and 32 base64url
 * characters (192 random bits), shown once; only HMAC-SHA-256(server secret, key) is stored.
 * Lookups are cached for a short time so that the hot path rarely touches the database while a
 * revocation still takes effect within that time on every node (at once on the node that revoked).
 */
public final class ApiKeyService {

    public static final String PREFIX = "mmk_";
    public static final Set<String> SCOPES = Set.of("inference", "usage:read");
    private static final int RANDOM_BYTES = 24;
    private static final int MAX_CACHE = 100_000;
    private static final long TOUCH_EVERY_MILLIS = 60_000;

    private final Pool pool;
    private final ApiKeyRepository repository;
    private final AuditLog audit;
    private final byte[] hmacKey;
    private final long cacheTtlNanos;
    private final ConcurrentHashMap<Digest, Cached> cache = new ConcurrentHashMap<>();
    private final SingleFlight<Digest, Optional<KeyPrincipal>> lookups = new SingleFlight<>();
    /** One keyed HMAC per thread: looking the algorithm up and keying it costs more than hashing a key. */
    private final ThreadLocal<javax.crypto.Mac> macs = ThreadLocal.withInitial(this::newMac);
    private final ConcurrentHashMap<UUID, Long> lastTouched = new ConcurrentHashMap<>();
    /** Told of every key revoked on this node (the cluster publishes it to the other nodes). */
    private final java.util.List<java.util.function.Consumer<UUID>> revokedListeners = new java.util.concurrent.CopyOnWriteArrayList<>();

    /** A presented key's HMAC, as the cache's key: compared by content, with no hex string made per request. */
    private record Digest(byte[] bytes) {
        @Override
        public boolean equals(Object o) {
            return o instanceof Digest d && java.util.Arrays.equals(bytes, d.bytes);
        }

        @Override
        public int hashCode() {
            return java.util.Arrays.hashCode(bytes);
        }

        @Override
        public String toString() {
            return HexFormat.of().formatHex(bytes);
        }
    }

    private record Cached(Optional<KeyPrincipal> principal, long until) {
    }

    /** A new key and its secret, which is never shown again. */
    public record CreatedKey(ApiKey key, String secret) {
        public JsonObject toJson() {
            return key.toJson().put("secret", secret);
        }
    }

    public ApiKeyService(Pool pool, AuditLog audit, byte[] hmacKey, Duration cacheTtl) {
        this.pool = pool;
        this.repository = new ApiKeyRepository(pool);
        this.audit = audit;
        this.hmacKey = hmacKey.clone();
        this.cacheTtlNanos = cacheTtl.toNanos();
    }

    public Future<CreatedKey> create(Actor actor, String name, List<String> scopes, Optional<Instant> expiresAt) {
        Principal caller = actor.principal();
        requireManager(caller);
        for (String scope : scopes) {
            if (!SCOPES.contains(scope)) {
                return Future.failedFuture(new InvalidFieldException("/scopes", "unknown scope '" + scope
                        + "'; known scopes: " + String.join(", ", SCOPES.stream().sorted().toList())));
            }
        }
        if (expiresAt.isPresent() && !expiresAt.get().isAfter(Instant.now())) {
            return Future.failedFuture(new InvalidFieldException("/expiresAt", "must be in the future"));
        }
        String secret = Secrets.token(PREFIX, RANDOM_BYTES);
        String prefix = secret.substring(0, PREFIX.length() + 6);
        String lastFour = secret.substring(secret.length() - 4);
        OffsetDateTime expires = expiresAt.map(i -> i.atOffset(ZoneOffset.UTC)).orElse(null);
        return TenantScope.tenant(pool, caller.tenantId(), tx -> repository.insert(tx, caller.tenantId(), caller.userId(), name, prefix, lastFour,
                        hash(secret), List.copyOf(new java.util.TreeSet<>(scopes)), expires)
                .compose(key -> audit.record(tx, caller.tenantId(), actor, "apikey.create", "api_key", key.id(),
                        new JsonObject().put("name", name).put("prefix", prefix)).map(v -> new CreatedKey(key, secret))));
    }

    public Future<List<ApiKey>> list(Principal caller) {
        requireManager(caller);
        return repository.list(caller.tenantId());
    }

    public Future<ApiKey> get(Principal caller, UUID id) {
        requireManager(caller);
        return repository.find(caller.tenantId(), id).compose(ApiKeyService::orNotFound);
    }

    public Future<ApiKey> revoke(Actor actor, UUID id) {
        Principal caller = actor.principal();
        requireManager(caller);
        return TenantScope.tenant(pool, caller.tenantId(), tx -> repository.revoke(tx, caller.tenantId(), id).compose(ApiKeyService::orNotFound)
                .compose(key -> audit.record(tx, caller.tenantId(), actor, "apikey.revoke", "api_key", key.id(),
                        new JsonObject().put("name", key.name()).put("prefix", key.prefix())).map(v -> key))).onSuccess(key -> {
                    forget(key.id());
                    revokedListeners.forEach(l -> l.accept(key.id()));
                });
    }

    /** Drops a key from this node's cache (a revocation here, or on another node of the cluster). */
    public void forget(UUID keyId) {
        cache.values().removeIf(c -> c.principal().map(p -> p.keyId().equals(keyId)).orElse(false));
    }

    /** Calls {@code listener} with the id of every key revoked on this node. */
    public void onRevoked(java.util.function.Consumer<UUID> listener) {
        revokedListeners.add(listener);
    }

    /** The caller behind a presented key; fails with 401 for an unknown, revoked or expired key. */
    public Future<KeyPrincipal> authenticate(String presented) {
        if (presented == null || !presented.startsWith(PREFIX) || presented.length() > 100) {
            return Future.failedFuture(new UnauthorizedException("A valid API key is required"));
        }
        byte[] digest = hash(presented);
        Digest cacheKey = new Digest(digest);
        long now = System.nanoTime();
        Cached cached = cache.get(cacheKey);
        if (cached != null && cached.until() - now > 0) {
            return principal(cached.principal()); // a cached key (nearly every call): no future to compose
        }
        return lookup(cacheKey, digest, now).compose(this::principal);
    }

    private Future<KeyPrincipal> principal(Optional<KeyPrincipal> principal) {
        if (principal.isEmpty()) {
            return Future.failedFuture(new UnauthorizedException("A valid API key is required"));
        }
        try {
            touch(principal.get());
        } catch (RuntimeException e) { // as when this ran inside compose: the call fails, nothing is thrown at the caller
            return Future.failedFuture(e);
        }
        return Future.succeededFuture(principal.get());
    }

    /** Reads a key from the database, one read per key at a time however many requests present it. */
    private Future<Optional<KeyPrincipal>> lookup(Digest cacheKey, byte[] digest, long now) {
        return lookups.run(cacheKey, () -> repository.findUsable(digest)
                .map(found -> found.map(k -> new KeyPrincipal(k.id(), k.tenantId(), k.scopes())))
                .onSuccess(principal -> {
                    if (cache.size() > MAX_CACHE) {
                        cache.clear();
                    }
                    cache.put(cacheKey, new Cached(principal, now + cacheTtlNanos));
                }));
    }

    private void touch(KeyPrincipal key) {
        long now = System.currentTimeMillis();
        Long last = lastTouched.get(key.keyId());
        if (last == null || now - last > TOUCH_EVERY_MILLIS) {
            lastTouched.put(key.keyId(), now);
            repository.touch(key.tenantId(), key.keyId()); // best effort, off the request's path
        }
    }

    private byte[] hash(String secret) {
        return macs.get().doFinal(secret.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    private javax.crypto.Mac newMac() {
        try {
            javax.crypto.Mac mac = javax.crypto.Mac.getInstance("HmacSHA256");
            mac.init(new javax.crypto.spec.SecretKeySpec(hmacKey, "HmacSHA256"));
            return mac;
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void requireManager(Principal caller) {
        if (!caller.role().canManageTenant()) {
            throw new ForbiddenException("Only owners and admins manage API keys");
        }
    }

    private static Future<ApiKey> orNotFound(Optional<ApiKey> key) {
        return key.map(Future::succeededFuture).orElseGet(() -> Future.failedFuture(new NotFoundException("API key")));
    }
}
