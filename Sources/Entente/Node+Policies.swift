import EntenteCore
import EntenteDomain
import EntenteStore
import Foundation

/// What this company's policies would do to one object (`entente policy test`, `import --dry-run`).
public struct PolicyEffect: Hashable, Sendable {
    /// The object.
    public let id: ObjectID
    /// Its type.
    public let type: String
    /// Its title, if set.
    public let title: String?
    /// Partners the policies would invite (this company owns the object).
    public let invitations: [CompanyRef]
    /// This company's fields whose audience the policies set.
    public let fields: [FieldAudience]
    /// The rules that matched.
    public let policies: [Int64]

    /// One field's audience under the policies.
    public struct FieldAudience: Hashable, Sendable {
        /// The field.
        public let name: String
        /// Who would read it, as text ("private", "all participants", "only Initech").
        public let audience: String
        /// Whether that differs from its audience now.
        public let changes: Bool
    }
}

extension Node {
    /// This company's sharing policies, in the order they apply.
    public func policies() throws(EntenteError) -> [Policy] {
        try reading { tx in try policySet(tx).policies }
    }

    /// Stores a sharing policy and returns it with its id. It applies to writes from now on; `applyPolicies`
    /// applies it to the objects already held.
    /// - Throws: `.invalidArgument` naming the problem; `.unknownCompany` for a partner that is not pinned.
    public func addPolicy(_ policy: Policy) throws(EntenteError) -> Policy {
        if let problem = policy.problem { throw EntenteError(.invalidArgument, problem) }
        if let type = policy.type, let workflow = Catalog.kind(named: type)?.workflow,
            policy.fields.contains(workflow.field)
        {
            throw EntenteError(.invalidArgument, "the \(workflow.field) of a \(type) is joint; a policy cannot hide it")
        }
        return try transaction { tx in
            var partners = policy.invite
            if case .partners(let named) = policy.sharing { partners += named }
            for partner in partners {
                guard partner != company, try tx.company(partner) != nil else {
                    throw EntenteError(.unknownCompany, "company \(partner.short) is not a pinned partner")
                }
            }
            var stored = policy
            stored.id = 0
            let id = try tx.addPolicy(try Self.encodePolicy(stored))
            stored.id = id
            return stored
        }
    }

    /// Deletes a policy (what it shared stays shared).
    public func removePolicy(_ id: Int64) throws(EntenteError) {
        try transaction { tx in
            guard try tx.removePolicy(id) else {
                throw EntenteError(.notFound, "no policy \(id) (run `entente policy list`)")
            }
        }
    }

    /// What the policies would do to the objects held (all, or those of `type`), without writing anything: the
    /// dry run of `entente policy test`. Objects the policies leave alone are not listed.
    public func policyEffects(type: String? = nil) throws(EntenteError) -> [PolicyEffect] {
        try reading { tx in
            let policies = try policySet(tx)
            let names = try tx.companyNames()
            var effects: [PolicyEffect] = []
            try forEachObject(of: type, tx) { state in
                guard state.isParticipant(company), let effect = effect(of: policies, on: state, names: names) else {
                    return
                }
                effects.append(effect)
            }
            return effects
        }
    }

    /// Applies the policies to the objects held (all, or those of `type`): invites the partners they name to
    /// objects this company owns, and gives this company's fields the audience they set (widening sends the
    /// current value; narrowing stops future values only). Returns what was done.
    public func applyPolicies(type: String? = nil) throws(EntenteError) -> [PolicyEffect] {
        let effects = try policyEffects(type: type)
        for effect in effects {
            try transaction { tx in
                for partner in effect.invitations { try inviteLocked(effect.id, partner.id, tx) }
            }
            guard effect.fields.contains(where: \.changes) else { continue }
            let (state, policies) = try reading { tx in (try tx.loadObject(effect.id), try policySet(tx)) }
            guard let state, let kind = state.type.flatMap(Catalog.kind(named:)) else { continue }
            let values = prospectiveValues(Changes(), state)
            for field in effect.fields where field.changes {
                let (_, sharing) = placement(of: field.name, kind: kind, policies: policies, values: values)
                try share(effect.id, field: field.name, with: sharing, droppingOutsiders: true)
            }
        }
        return effects
    }

    func effect(of policies: PolicySet, on state: ObjectState, names: [CompanyID: String]) -> PolicyEffect? {
        guard let type = state.type, let kind = Catalog.kind(named: type) else { return nil }
        func ref(_ company: CompanyID) -> CompanyRef { CompanyRef(id: company, name: names[company] ?? company.short) }
        let values = prospectiveValues(Changes(), state)
        let matched = policies.policies.filter { $0.matches(type: type, values: values) }.map(\.id)
        guard !matched.isEmpty else { return nil }
        let invitations =
            state.owner == company
            ? policies.invitations(type: type, values: values).filter { $0 != company && !state.isParticipant($0) }
            : []
        var fields: [PolicyEffect.FieldAudience] = []
        let own = Namespace.company(company)
        for key in state.fields.keys.sorted() where key.namespace == own {
            guard let (_, sharing) = policies.sharing(of: key.name, type: type, values: values),
                let current = state.fields[key]?.winner.visibility
            else { continue }
            let target: Visibility
            switch sharing {
            case .private: target = .private
            case .participants: target = .participants
            case .partners(let partners):
                let named = Set(partners).filter { state.isParticipant($0) || invitations.contains($0) }
                target = named.isEmpty ? .private : .companies(named)
            }
            fields.append(.init(name: key.name, audience: Self.describe(target, ref), changes: target != current))
        }
        return PolicyEffect(
            id: state.id,
            type: type,
            title: kind.field(named: kind.titleField).flatMap { state.fields[FieldKey(.joint, $0.name)] }.map {
                $0.winner.value.description
            },
            invitations: invitations.map(ref),
            fields: fields,
            policies: matched
        )
    }

    static func describe(_ visibility: Visibility, _ ref: (CompanyID) -> CompanyRef) -> String {
        switch visibility {
        case .private: "private"
        case .participants: "all participants"
        case .companies(let set): "only " + set.map { ref($0).name }.sorted().joined(separator: ", ")
        }
    }

    /// The stored policies (decoded).
    func policySet(_ tx: StoreTransaction) throws -> PolicySet {
        PolicySet(
            try tx.policies().map { row in
                guard var policy = try? JSONDecoder().decode(Policy.self, from: Data(row.body.utf8)) else {
                    throw EntenteError(.storage, "policy \(row.id) is unreadable")
                }
                policy.id = row.id
                return policy
            }
        )
    }

    static func encodePolicy(_ policy: Policy) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(policy), as: UTF8.self)
    }

    /// A claim may be approved only if the approved and paid claims against its fund request (this one
    /// included) stay within the request's approved amount, in its currency.
    func checkClaimWithinFunds(_ claim: ObjectState, _ tx: StoreTransaction) throws {
        guard case .reference(let requestID)? = claim.fields[FieldKey(.joint, "fund_request")]?.winner.value,
            case .money(let amount)? = claim.fields[FieldKey(.joint, "amount")]?.winner.value
        else { throw EntenteError(.invalidArgument, "a claim needs an amount and a fund request to be approved") }
        let request = try tx.loadObject(requestID)
        guard let request, request.type == Catalog.fundRequest.name else {
            throw EntenteError(.notFound, "fund request \(requestID.short) is not on this node")
        }
        guard case .money(let approved)? = request.fields[FieldKey(.joint, "approved_amount")]?.winner.value,
            Catalog.fundRequest.state(of: request).map({ ["approved", "in-execution", "claim-open"].contains($0) })
                == true
        else {
            throw EntenteError(.rejected, "fund request \(requestID.short) is not approved; its claims cannot be")
        }
        guard approved.currency == amount.currency else {
            throw EntenteError(
                .invalidArgument,
                "the claim is in \(amount.currency) but fund request \(requestID.short) was approved in \(approved.currency)"
            )
        }
        var total = amount.amount
        let others = try tx.fieldValues(of: FieldKey(.joint, "fund_request"), type: Catalog.claim.name).filter {
            $0.0 != claim.id && $0.1 == .reference(requestID)
        }.compactMap { try tx.loadObject($0.0) }
        for other in others where ["approved", "paid"].contains(Catalog.claim.state(of: other) ?? "") {
            if case .money(let money)? = other.fields[FieldKey(.joint, "amount")]?.winner.value,
                money.currency == amount.currency, let sum = total.adding(money.amount)
            {
                total = sum
            }
        }
        guard !(approved.amount < total) else {
            throw EntenteError(
                .rejected,
                "approving this claim would bring the approved claims to \(Money(amount: total, currency: amount.currency)),"
                    + " over the \(approved) approved for fund request \(requestID.short)"
            )
        }
    }
}
