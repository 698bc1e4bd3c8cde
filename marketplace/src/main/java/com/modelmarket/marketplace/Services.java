package com.modelmarket.marketplace;

import com.modelmarket.marketplace.apikeys.ApiKeyService;
import com.modelmarket.marketplace.auth.AccessTokenHandler;
import com.modelmarket.marketplace.auth.AuthService;
import com.modelmarket.marketplace.config.AppConfig;
import com.modelmarket.marketplace.db.Database;
import com.modelmarket.marketplace.tenants.MemberService;
import com.modelmarket.marketplace.tenants.TenantRepository;

/** The long-lived services, built once by {@link Platform} and shared by every HTTP verticle. */
public record Services(
        AppConfig config,
        Database database,
        TenantRepository tenants,
        AuthService auth,
        MemberService members,
        ApiKeyService apiKeys,
        AccessTokenHandler accessTokens) {
}
