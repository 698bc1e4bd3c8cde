package com.modelmarket.marketplace;

import com.modelmarket.billing.metering.UsageMeter;
import com.modelmarket.marketplace.apikeys.ApiKeyService;
import com.modelmarket.marketplace.inference.InferenceService;
import com.modelmarket.marketplace.invoicing.InvoicingService;
import com.modelmarket.marketplace.invoicing.UsageQueries;
import com.modelmarket.marketplace.training.DatasetService;
import com.modelmarket.marketplace.training.TrainingService;
import com.modelmarket.marketplace.evaluation.EvaluationService;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import com.modelmarket.marketplace.audit.AuditLog;
import com.modelmarket.marketplace.auth.AccessTokenHandler;
import com.modelmarket.marketplace.auth.AuthService;
import com.modelmarket.marketplace.catalog.CatalogChanges;
import com.modelmarket.marketplace.catalog.CatalogService;
import com.modelmarket.marketplace.cluster.ClusterNode;
import com.modelmarket.marketplace.catalog.SearchService;
import com.modelmarket.marketplace.config.AppConfig;
import com.modelmarket.marketplace.db.Database;
import com.modelmarket.marketplace.plans.PlanService;
import com.modelmarket.marketplace.subscriptions.SubscriptionService;
import com.modelmarket.marketplace.members.MemberService;
import com.modelmarket.marketplace.tenants.TenantRepository;
import com.modelmarket.serving.ServingEngine;
import com.modelmarket.serving.store.ModelStore;
// issue 18 part 2: publish gates and canary splits
import com.modelmarket.marketplace.canary.CanaryService;
import com.modelmarket.marketplace.gates.GateService;

/** The long-lived services, built once by {@link Platform} and shared by every HTTP verticle. */
public record Services(
        AppConfig config,
        Database database,
        TenantRepository tenants,
        AuthService auth,
        MemberService members,
        ApiKeyService apiKeys,
        AccessTokenHandler accessTokens,
        AuditLog audit,
        ModelStore modelStore,
        ServingEngine serving,
        CatalogService catalog,
        SearchService search,
        PlanService plans,
        SubscriptionService subscriptions,
        UsageMeter usageMeter,
        InferenceService inference,
        PrometheusMeterRegistry metrics,
        InvoicingService invoicing,
        UsageQueries usage,
        DatasetService datasets,
        TrainingService training,
        // issue 18: evaluation jobs
        EvaluationService evaluation,
        // issue 18 part 2: publish gates and canary splits
        GateService gates,
        CanaryService canary,
        // issue 19: the cluster
        CatalogChanges catalogChanges,
        ClusterNode cluster) {
}
