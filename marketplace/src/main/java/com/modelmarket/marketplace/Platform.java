package com.modelmarket.marketplace;

import com.modelmarket.marketplace.apikeys.ApiKeyService;
import com.modelmarket.marketplace.audit.AuditLog;
import com.modelmarket.marketplace.catalog.ArtifactValidator;
import com.modelmarket.marketplace.catalog.CatalogChanges;
import com.modelmarket.marketplace.catalog.CatalogService;
import com.modelmarket.marketplace.catalog.SearchService;
import com.modelmarket.marketplace.cluster.ClusterNode;
import com.modelmarket.marketplace.plans.PlanService;
import com.modelmarket.marketplace.subscriptions.SubscriptionService;
import com.modelmarket.serving.ServingEngine;
import com.modelmarket.serving.store.ModelStore;
import com.modelmarket.billing.metering.UsageMeter;
import com.modelmarket.marketplace.inference.InferenceService;
import com.modelmarket.marketplace.inference.QuotaTracker;
import com.modelmarket.marketplace.inference.RateLimiter;
import com.modelmarket.marketplace.inference.TensorCodec;
import com.modelmarket.marketplace.invoicing.InvoicingService;
import com.modelmarket.marketplace.invoicing.Periods;
import com.modelmarket.marketplace.invoicing.UsageQueries;
import com.modelmarket.marketplace.metering.MeteringMetrics;
import com.modelmarket.marketplace.metering.PgUsageSink;
import com.modelmarket.marketplace.training.DatasetService;
import com.modelmarket.marketplace.training.TrainingService;
import com.modelmarket.marketplace.evaluation.EvaluationService;
import com.modelmarket.serving.training.CsvLimits;
// issue 18 part 2: publish gates and canary splits
import com.modelmarket.marketplace.canary.CanaryService;
import com.modelmarket.marketplace.gates.GateService;
import com.modelmarket.marketplace.gates.MeasuredMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
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
import com.modelmarket.marketplace.members.MemberService;
import com.modelmarket.marketplace.tenants.TenantRepository;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import com.modelmarket.marketplace.demo.DemoCatalog;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
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
    private final Http http;
    private final Optional<DemoCatalog.Credentials> demo;
    /** The periodic timer that closes ended billing periods; cancelled by {@link #stop()}. */
    private final long closingTimer;

    private record Http(String deploymentId, int port, int managementPort, HttpVerticle.Drain drain, List<HttpVerticle> instances) {
    }

    private Platform(Vertx vertx, Services services, Http http, Optional<DemoCatalog.Credentials> demo,
                     long closingTimer) {
        this.vertx = vertx;
        this.services = services;
        this.http = http;
        this.demo = demo;
        this.closingTimer = closingTimer;
    }

    public static Future<Platform> start(Vertx vertx, AppConfig config) {
        PrometheusMeterRegistry metrics = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        ClusterNode cluster = ClusterNode.of(vertx, config); // node.role: nothing at all without a cluster
        return Database.open(vertx, config).compose(database -> cluster.engine(metrics)
                .compose(serving -> UsageMeter.deploy(vertx, new PgUsageSink(vertx, database.appConnectOptions(), config.usageBuckets()),
                                config.meteringOptions())
                        .compose(meter -> vertx.executeBlocking(() -> buildServices(vertx, config, database, serving, meter, metrics, cluster), false)
                                // jobs left open by processes that are gone (this node's last run, or a dead cluster member)
                                .compose(services -> services.training().failInterrupted().map(ended -> {
                                    if (ended > 0) {
                                        LOG.warn("{} training job(s) left open by a process that is gone ended as failed (interrupted)", ended);
                                    }
                                    return services;
                                }))
                                .compose(services -> services.evaluation().failInterrupted().map(services)) // issue 18
                                .compose(services -> cluster.attach(services.serving(), services.modelStore(), services.apiKeys(),
                                        services.catalogChanges()).map(services))
                                .compose(services -> deployHttp(vertx, services)
                                        .compose(http -> {
                                            long closing = scheduleClosing(vertx, services);
                                            return demo(vertx, services)
                                                    .map(demo -> new Platform(vertx, services, http, demo, closing))
                                                    .onFailure(err -> vertx.cancelTimer(closing));
                                        }))
                                .recover(err -> cluster.close().eventually(meter::close).transform(ignored -> Future.failedFuture(err))))
                        .recover(err -> serving.close().transform(ignored -> Future.failedFuture(err))))
                .recover(err -> database.close(vertx).transform(ignored -> Future.failedFuture(err))));
    }

    private static Services buildServices(Vertx vertx, AppConfig config, Database database, ServingEngine serving,
                                          UsageMeter meter, PrometheusMeterRegistry metrics, ClusterNode cluster) throws Exception {
        KeyMaterial keys = KeyMaterial.loadOrCreate(config);
        MeteringMetrics.bind(meter, metrics);
        TenantRepository tenants = new TenantRepository(database.pool(), config.usageBuckets());
        RefreshTokenRepository refreshTokens = new RefreshTokenRepository(database.pool());
        TokenService tokens = new TokenService(vertx, config, keys);
        PasswordHasher hasher = new PasswordHasher(config.argon2MemoryKib(), config.argon2Iterations(),
                config.argon2Parallelism());
        LoginThrottle throttle = LoginThrottle.from(config, Clock.systemUTC());
        AuthService auth = new AuthService(vertx, tenants, refreshTokens, tokens, hasher, throttle,
                config.refreshTokenTtl());
        MemberService members = new MemberService(tenants, refreshTokens, auth);
        AuditLog audit = new AuditLog(database.pool());
        ApiKeyService apiKeys = new ApiKeyService(database.pool(), audit, keys.apiKeyHmacKey(), config.apiKeyCacheTtl());
        ModelStore store = new ModelStore(config.modelStoreDir());
        CatalogChanges changes = new CatalogChanges();
        CatalogService catalog = new CatalogService(vertx, database.pool(), new ArtifactValidator(serving, store, config.servingPool()), audit,
                serving, config.maxUploadBytes(), changes);
        PlanService plans = new PlanService(database.pool(), catalog, audit, changes);
        SubscriptionService subscriptions = new SubscriptionService(database.pool(), catalog, plans, audit, changes,
                config.usageBuckets());
        UsageQueries usage = new UsageQueries(database.pool());
        CsvLimits csvLimits = new CsvLimits(config.maxUploadBytes(), CsvLimits.DEFAULT.maxColumns(), CsvLimits.DEFAULT.minRowsPerClass());
        DatasetService datasets = new DatasetService(vertx, database.pool(), catalog, store, audit, csvLimits);
        TrainingService training = new TrainingService(database.pool(), catalog, subscriptions, datasets, store, audit,
                config.training(), serving, cluster.jobRunner());
                InferenceService inference = new InferenceService(catalog, subscriptions, serving, store,
                new RateLimiter(Clock.systemUTC(), cluster::apiNodes),
                config.cluster().enabled() ? QuotaTracker.shared(usage, database.pool(), Clock.systemUTC()) // exact across API nodes
                        : new QuotaTracker(usage, Clock.systemUTC()), meter,
                new TensorCodec.Limits(config.inferenceMaxItems(), config.inferenceMaxElements()), config.servingPool(),
                config.meteringEnabled(), changes);
        // issue 18 part 2: the publish gates (measured on the publisher's datasets) guard the catalog's alias moves
        GateService gates = new GateService(database.pool(), catalog, datasets,
                new MeasuredMetrics(vertx, catalog, datasets, store, serving, config.servingPool(), csvLimits), audit);
        catalog.gatekeeper().use(gates);
        CanaryService canary = new CanaryService(catalog.splits(), inference.traffic());
        return new Services(config, database, tenants, auth, members, apiKeys,
                new AccessTokenHandler(tokens, tenants), audit, store, serving, catalog,
                new SearchService(database.pool()), plans, subscriptions, meter, inference, metrics,
                new InvoicingService(database.pool(), config.billingPeriodDaySeconds() > 0
                        ? new Periods(config.billingPeriodDaySeconds(), config.billingPeriodDays()) : Periods.calendarMonths(),
                        config.platformFeeBasisPoints()),
                usage, datasets, training,
                new EvaluationService(vertx, database.pool(), inference, datasets, audit, config.evaluation(), cluster.jobRunner()), // issue 18
                gates, canary, changes, cluster);
    }

    /** Closes ended billing periods: checked every minute (every period-day in short test cycles). */
    private static long scheduleClosing(Vertx vertx, Services services) {
        AppConfig config = services.config();
        long every = config.billingPeriodDaySeconds() > 0 ? config.billingPeriodDaySeconds() * 1000 : 60_000;
        return vertx.setPeriodic(every, every, id -> services.invoicing().closeEndedPeriods(config.billingCloseGrace())
                .onFailure(err -> LOG.warn("Closing billing periods failed; retrying later: {}", err.toString())));
    }

    /** The demo catalog, on the embedded default only (never on an operator's database). */
    private static Future<Optional<DemoCatalog.Credentials>> demo(Vertx vertx, Services services) {
        AppConfig config = services.config();
        if (!config.demoEnabled() || config.dbUrl().isPresent()) {
            return Future.succeededFuture(Optional.empty());
        }
        return DemoCatalog.ensure(vertx, new DemoCatalog.Market(config, services.tenants(), services.auth(),
                services.catalog(), services.plans(), services.subscriptions(), services.modelStore(), services.datasets(),
                services.training()));
    }

    private static Future<Http> deployHttp(Vertx vertx, Services services) {
        AtomicInteger port = new AtomicInteger();
        AtomicInteger managementPort = new AtomicInteger(-1);
        HttpVerticle.Drain drain = new HttpVerticle.Drain();
        List<HttpVerticle> instances = new CopyOnWriteArrayList<>();
        return vertx.deployVerticle(() -> {
                    HttpVerticle instance = new HttpVerticle(services.config(), services.metrics(), new RouteTable(services), port::set, managementPort::set, drain);
                    instances.add(instance);
                    return instance;
                }, new DeploymentOptions().setInstances(services.config().effectiveHttpInstances()))
                .map(id -> new Http(id, port.get(), managementPort.get(), drain, List.copyOf(instances)));
    }

    /** The port the HTTP API listens on. */
    public int port() {
        return http.port();
    }

    /** The port of the management listener ({@code /metrics}), or -1 when it is turned off. */
    public int managementPort() {
        return http.managementPort();
    }

    /** The demo logins, when this platform runs the demo catalog. */
    public Optional<DemoCatalog.Credentials> demoCredentials() {
        return demo;
    }

    public Services services() {
        return services;
    }

    /**
     * Stops in an order that answers every request already accepted. A serving node first leaves the
     * cluster's placement and answers every call API nodes sent it, waiting (bounded) until its
     * versions are in service on another node ({@code ClusterNode.stopServing}). Then new requests are turned away
     * (503) while those in flight finish, with the serving engine still running (bounded by
     * {@link HttpVerticle#DRAIN_SECONDS}); then serving drains (answering anything left with a 503),
     * the HTTP servers close their connections once those answers are written, the meter flushes and
     * the database closes. The HTTP verticles are undeployed only after serving has closed: model
     * workers loaded on behalf of a request are child deployments of an HTTP verticle, and Vert.x
     * undeploys children first — undeploying HTTP first stopped the models under the requests in
     * flight (their answers were 500s or lost).
     */
    public Future<Void> stop() {
        long started = System.nanoTime();
        vertx.cancelTimer(closingTimer);
        // a serving node first leaves placement and answers the calls API nodes sent it (nothing elsewhere)
        return services.cluster().stopServing()
                .eventually(() -> http.drain().drain(vertx, Duration.ofSeconds(HttpVerticle.DRAIN_SECONDS)))
                .eventually(() -> vertx.executeBlocking(() -> {
                    services.training().close(); // running jobs stop between two steps; the next start marks them interrupted
                    services.evaluation().close(); // issue 18: likewise, between two requests
                    return null;
                }, false))
                .eventually(() -> services.serving().close())
                .eventually(() -> Future.join(http.instances().stream()
                        .map(instance -> instance.shutdown(SHUTDOWN_GRACE)).toList()))
                .eventually(() -> vertx.undeploy(http.deploymentId()))
                .eventually(() -> services.cluster().close())
                .eventually(() -> services.usageMeter().close())
                .eventually(() -> services.usageMeter().sink() instanceof PgUsageSink sink ? sink.close() : Future.succeededFuture())
                .eventually(() -> services.database().close(vertx))
                .onComplete(r -> LOG.info("ModelMarket stopped in {} ms", (System.nanoTime() - started) / 1_000_000));
    }

    /** How long the servers wait, after the drain and serving's own drain, for answers still being written. */
    private static final Duration SHUTDOWN_GRACE = Duration.ofSeconds(2);
}
