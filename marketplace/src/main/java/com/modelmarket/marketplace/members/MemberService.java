package com.modelmarket.marketplace.members;

import com.modelmarket.marketplace.tenants.Member;
import com.modelmarket.marketplace.tenants.TenantRepository;
import com.modelmarket.marketplace.audit.Actor;
import com.modelmarket.marketplace.audit.AuditLog;
import com.modelmarket.marketplace.auth.AuthService;
import com.modelmarket.marketplace.auth.Principal;
import com.modelmarket.marketplace.auth.RefreshTokenRepository;
import com.modelmarket.marketplace.tenants.Role;
import com.modelmarket.marketplace.db.TenantScope;
import com.modelmarket.marketplace.errors.ConflictException;
import com.modelmarket.marketplace.errors.ForbiddenException;
import com.modelmarket.marketplace.errors.NotFoundException;
import io.vertx.core.Future;
import java.util.List;
import java.util.UUID;

/**
 * Members of the caller's tenant. Owners and admins manage them; only owners touch owners; a
 * tenant always keeps at least one owner.
 */
public final class MemberService {

    private final TenantRepository repository;
    private final RefreshTokenRepository sessions;
    private final AuthService auth;
    private final AuditLog audit;

    public MemberService(TenantRepository repository, RefreshTokenRepository sessions, AuthService auth) {
        this.repository = repository;
        this.sessions = sessions;
        this.auth = auth;
        this.audit = new AuditLog(repository.pool());
    }

    public Future<List<Member>> list(Principal caller) {
        return repository.listMembers(caller.tenantId());
    }

    public Future<Member> get(Principal caller, UUID memberId) {
        return TenantScope.tenant(repository.pool(), caller.tenantId(),
                        c -> repository.findMember(c, caller.tenantId(), memberId, false))
                .compose(found -> found.map(Future::succeededFuture)
                        .orElseGet(() -> Future.failedFuture(new NotFoundException("Member"))));
    }

    public Future<Member> add(Principal caller, String email, String displayName, String password, Role role) {
        requireManager(caller);
        requireMayGrant(caller, role);
        return auth.hashPassword(password)
                .compose(hash -> TenantScope.tenant(repository.pool(), caller.tenantId(),
                        c -> repository.insertUser(c, caller.tenantId(), email, displayName, hash, role)))
                .recover(err -> mapConflict(err));
    }

    public Future<Member> changeRole(Principal caller, UUID memberId, Role role) {
        requireManager(caller);
        return TenantScope.tenant(repository.pool(), caller.tenantId(), tx -> repository.findMember(tx, caller.tenantId(), memberId, true)
                .compose(found -> {
                    Member member = found.orElseThrow(() -> new NotFoundException("Member"));
                    requireMayGrant(caller, member.role());
                    requireMayGrant(caller, role);
                    if (member.role() == Role.OWNER && role != Role.OWNER) {
                        return ensureAnotherOwner(tx, caller.tenantId())
                                .compose(v -> repository.updateRole(tx, caller.tenantId(), memberId, role));
                    }
                    return repository.updateRole(tx, caller.tenantId(), memberId, role);
                }));
    }

    public Future<Void> remove(Principal caller, UUID memberId) {
        requireManager(caller);
        return TenantScope.tenant(repository.pool(), caller.tenantId(), tx -> repository.findMember(tx, caller.tenantId(), memberId, true)
                .compose(found -> {
                    Member member = found.orElseThrow(() -> new NotFoundException("Member"));
                    requireMayGrant(caller, member.role());
                    Future<Void> check = member.role() == Role.OWNER
                            ? ensureAnotherOwner(tx, caller.tenantId()) : Future.succeededFuture();
                    return check
                            .compose(v -> sessions.revokeAllOfUser(tx, caller.tenantId(), memberId))
                            .compose(v -> repository.deleteMember(tx, caller.tenantId(), memberId));
                }));
    }

    /**
     * Deletes the caller's own tenant (owners only): a soft delete that shuts the tenant out at
     * once and keeps its usage and invoices; see {@link TenantRepository#markDeleted}. Access tokens
     * stop at the next request, API keys within the key cache's lifetime.
     */
    public Future<Void> deleteTenant(Actor actor) {
        Principal caller = actor.principal();
        if (caller.role() != Role.OWNER) {
            throw new ForbiddenException("Only owners delete the organisation");
        }
        UUID tenantId = caller.tenantId();
        return TenantScope.system(repository.pool(), tx -> repository.markDeleted(tx, tenantId).compose(deleted -> deleted
                ? audit.record(tx, tenantId, actor, "tenant.delete", "tenant", tenantId, null)
                : Future.failedFuture(new NotFoundException("Organisation"))));
    }

    private Future<Void> ensureAnotherOwner(io.vertx.sqlclient.SqlClient tx, UUID tenantId) {
        return repository.countOwnersForUpdate(tx, tenantId).compose(owners -> owners > 1
                ? Future.succeededFuture()
                : Future.failedFuture(new ConflictException("A tenant must keep at least one owner")));
    }

    private static void requireManager(Principal caller) {
        if (!caller.role().canManageTenant()) {
            throw new ForbiddenException("Only owners and admins manage members");
        }
    }

    private static void requireMayGrant(Principal caller, Role role) {
        if (role == Role.OWNER && caller.role() != Role.OWNER) {
            throw new ForbiddenException("Only owners grant, change or remove the owner role");
        }
    }

    private static <T> Future<T> mapConflict(Throwable err) {
        if (err instanceof io.vertx.pgclient.PgException pg && "23505".equals(pg.getSqlState())) {
            return Future.failedFuture(new ConflictException("An account with this e-mail address already exists"));
        }
        return Future.failedFuture(err);
    }
}
