import EntenteCore
import EntenteStore
public import EntenteWire

extension Node {
    /// Revokes one of this company's replicas (a lost laptop): this node refuses it at once, and every bundle
    /// it exports carries the signed statement, so each partner refuses the replica's envelopes (those it
    /// does not already hold) and its network handshakes from the moment it imports one. Needs the company
    /// signing key.
    /// - Throws: `.keys` without the company key; `.invalidArgument` for this very replica.
    @discardableResult
    public func revokeReplica(_ replica: ReplicaID) throws(EntenteError) -> ReplicaRevocation {
        guard let companyKey else {
            throw EntenteError(.keys, "this replica holds no company signing key; revoke from a company node")
        }
        guard replica != self.replica else {
            throw EntenteError(.invalidArgument, "that is this replica; rotate its key with `entente key rotate` instead")
        }
        let revocation = ReplicaRevocation.issue(companyKey: companyKey, replica: replica, at: options.now())
        _ = try transaction { tx in try tx.saveRevocation(revocation) }
        return revocation
    }

    /// Every revocation this node holds (its company's and its partners').
    public func revocations() throws(EntenteError) -> [ReplicaRevocation] {
        try reading { tx in try tx.revocations() }
    }

    /// Stores the revocations (from a partner, over the network) whose signature verifies under their
    /// company's pinned key, in one transaction. Returns how many were new.
    func admitRevocations(_ revocations: [ReplicaRevocation]) throws(EntenteError) -> Int {
        try transaction { tx in try admit(revocations, tx) }
    }

    /// The revoked replicas, by the company that revoked them (a company revokes only its own replicas, so a
    /// replica is refused only under its own company).
    nonisolated func revokedReplicas(_ tx: StoreTransaction) throws -> [CompanyID: Set<ReplicaID>] {
        try tx.revocations().reduce(into: [:]) { $0[$1.company, default: []].insert($1.replica) }
    }

    /// Stores the revocations whose signature verifies under their company's pinned key; others (unknown
    /// company, bad signature) are ignored. Returns how many were new.
    func admit(_ revocations: [ReplicaRevocation], _ tx: StoreTransaction) throws -> Int {
        var added = 0
        for revocation in try valid(revocations, tx) where try tx.saveRevocation(revocation) { added += 1 }
        return added
    }

    /// The revocations whose signature verifies under their company's pinned key.
    nonisolated func valid(_ revocations: [ReplicaRevocation], _ tx: StoreTransaction) throws -> [ReplicaRevocation] {
        try revocations.filter { revocation in
            guard let issuer = try tx.company(revocation.company) else { return false }
            return revocation.isValid(companyKey: issuer.card.signingKey)
        }
    }
}
