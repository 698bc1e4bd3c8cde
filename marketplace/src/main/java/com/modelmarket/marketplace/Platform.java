package com.modelmarket.marketplace;

import com.modelmarket.marketplace.apikeys.ApiKeyService;
import com.modelmarket.marketplace.auth.AccessTokenHandler;
import com.modelmarket.marketplace.auth.AuthService;
import com.modelmarket.marketplace.auth.KeyMaterial;
import com.modelmarket.marketplace.auth.LoginThrottle;
import com.modelmarket.marketplace.auth.PasswordHasher;
import com.modelmarket.marketplace.auth.RefreshTokenRepository;
import com.modelmarket.marketplace.auth.TokenService;
import com.modelmarket.marketplace.config.AppConfig;
import com.modelmarket.marketplace.db.Database;
import com.modelmarket.marketplace.http.HttpVerticle;
import com.modelmarket.marketplace.tenants.MemberService;
import com.modelmarket.marketplace.tenants.TenantRepository;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.time.Clock;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The composition root: opens the database (embedded or external, migrated), builds the services
 * and deploys the HTTP verticles. {@link #stop()} undoes it in reverse order.
 */
public final class Platform {

    private static final Logger LOG = LoggerFactory.getLogger(Platform.class);

    private final Vertx vertx;
    private final Services services;
    private final int port;

    private Platform(Vertx vertx, Services services, int port) {
        this.vertx = vertx;
        this.services = services;
        this.port = port;
    }

    public static Future<Platform> start(Vertx vertx, AppConfig config) {
        return Database.open(vertx, config).compose(database -> vertx.executeBlocking(() -> buildServices(vertx, config, database), false)
                .compose(services -> deployHttp(vertx, services)
                        .map(port -> new Platform(vertx, services, port)))
                .recover(err -> database.close(vertx).transform(ignored -> Future.failedFuture(err))));
    }

    private static Services buildServices(Vertx vertx, AppConfig config, Database database) throws Exception {
        KeyMaterial keys = KeyMaterial.loadOrCreate(config);
        TenantRepository tenants = new TenantRepository(database.pool());
        RefreshTokenRepository refreshTokens = new RefreshTokenRepository(database.pool());
        TokenService tokens = new TokenService(vertx, config, keys);
        PasswordHasher hasher = new PasswordHasher(config.argon2MemoryKib(), config.argon2Iterations(),
                config.argon2Parallelism());
        LoginThrottle throttle = new LoginThrottle(config.loginMaxFailures(), config.loginWindow(), Clock.systemUTC());
        AuthService auth = new AuthService(vertx, tenants, refreshTokens, tokens, hasher, throttle,
                config.refreshTokenTtl());
        MemberService members = new MemberService(tenants, refreshTokens, auth);
        ApiKeyService apiKeys = new ApiKeyService(database.pool(), keys.apiKeyHmacKey(), config.apiKeyCacheTtl());
        return new Services(config, database, tenants, auth, members, apiKeys,
                new AccessTokenHandler(tokens, tenants));
    }

    private static Future<Integer> deployHttp(Vertx vertx, Services services) {
        AtomicInteger port = new AtomicInteger();
        return vertx.deployVerticle(() -> new HttpVerticle(services, port::set),
                        new DeploymentOptions().setInstances(services.config().effectiveHttpInstances()))
                .map(id -> port.get());
    }

    /** The port the HTTP API listens on. */
    public int port() {
        return port;
    }

    public Services services() {
        return services;
    }

    /** Stops serving, then closes the database (stopping the embedded server). */
    public Future<Void> stop() {
        Future<Void> undeploy = Future.join(vertx.deploymentIDs().stream().map(vertx::undeploy).toList()).mapEmpty();
        return undeploy.eventually(() -> services.database().close(vertx))
                .onComplete(r -> LOG.info("ModelMarket stopped"));
    }
}
