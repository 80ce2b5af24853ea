import EntenteCore
import EntenteCrypto
import EntenteStore
public import EntenteSync
import EntenteWire

extension Node {
    /// Options of a network sync.
    public struct SyncOptions: Sendable {
        /// The protocol's bounds and timeouts.
        public var limits: SyncLimits
        /// Called after every batch sent and acknowledged, or received and imported.
        public var progress: (@Sendable (SyncProgress) -> Void)?
        /// Called with every batch of envelopes received, before it is imported (for audits).
        public var received: (@Sendable (CompanyID, [[UInt8]]) -> Void)?

        /// Creates options.
        public init(
            limits: SyncLimits = SyncLimits(),
            progress: (@Sendable (SyncProgress) -> Void)? = nil,
            received: (@Sendable (CompanyID, [[UInt8]]) -> Void)? = nil
        ) {
            self.limits = limits
            self.progress = progress
            self.received = received
        }
    }

    /// Syncs with a partner over TCP, both ways, once: each side sends what the other is entitled to and
    /// lacks (its own envelopes and relayed ones), in bounded batches that the receiver commits one by one.
    /// A sync cut off midway resumes where it stopped the next time.
    ///
    /// The connection is mutually authenticated (both companies' and replicas' keys) and encrypted; see
    /// `Specs/sync.md`. The actor is not held while the network is waited for.
    ///
    /// ```swift
    /// let report = try await globex.sync(with: initech.company, address: "127.0.0.1:7400")
    /// print(report.sent, report.received)
    /// ```
    /// - Parameters:
    ///   - partner: A pinned partner.
    ///   - address: `HOST:PORT` to dial; by default the address on the partner's card.
    ///   - options: Limits, timeouts and progress.
    /// - Returns: What moved.
    /// - Throws: `EntenteError`: `.unknownCompany` (not a pinned partner), `.invalidArgument` (no or bad
    ///   address), `.network` (nothing answers, or the connection was lost or timed out), `.rejected` (the
    ///   partner refused us, or could not prove its identity), `.badInput` (malformed, tampered or oversized
    ///   frames), `.storage`. The `cause` names the protocol error. Batches committed before a failure stay.
    public nonisolated func sync(
        with partner: CompanyID,
        address: String? = nil,
        options: SyncOptions = SyncOptions()
    ) async throws(EntenteError) -> SyncReport {
        let known = try await partners(includingSelf: true)
        guard let target = known.first(where: { $0.company == partner }) else {
            throw EntenteError(
                .unknownCompany,
                "company \(partner.short) is not a pinned partner; add its card with `entente partner add`"
            )
        }
        if target.isSelf, address == nil {
            throw EntenteError(
                .invalidArgument,
                "to sync with another replica of \(target.name), give its address with --address HOST:PORT"
            )
        }
        guard let text = address ?? target.address else {
            throw EntenteError(
                .invalidArgument,
                "\(target.name)'s card has no network address; give one with --address HOST:PORT (or ask \(target.name) for a card made with `entente init --address`)"
            )
        }
        let peerAddress: PeerAddress
        do { peerAddress = try PeerAddress(parsing: text) } catch {
            throw EntenteError(.invalidArgument, error.message, cause: error)
        }
        guard peerAddress.port != 0 else {
            throw EntenteError(.invalidArgument, "address '\(text)' has port 0; give the partner's real port")
        }
        let configuration = try await syncConfiguration(limits: options.limits)
        let session = SyncSession(role: .client(dialing: partner), configuration: configuration)
        let result = await TCPTransport.sync(
            to: peerAddress,
            session: session,
            store: NodeSyncStore(node: self),
            limits: options.limits,
            observer: options.observer
        )
        return try Self.unwrap(result, partner: "\(target.name) at \(peerAddress)")
    }

    /// Syncs with `partner` over one end of an in-memory link (the other end runs ``serveSync(over:options:)``
    /// on the partner's node): the transport of tests and simulations.
    package nonisolated func sync(
        with partner: CompanyID,
        over connection: InMemoryConnection,
        options: SyncOptions = SyncOptions()
    ) async throws(EntenteError) -> SyncReport {
        let configuration = try await syncConfiguration(limits: options.limits)
        let session = SyncSession(role: .client(dialing: partner), configuration: configuration)
        let result = await connection.run(
            session,
            store: NodeSyncStore(node: self),
            limits: options.limits,
            observer: options.observer
        )
        return try Self.unwrap(result, partner: "company \(partner.short)")
    }

    /// Accepts one sync over an in-memory link (see ``sync(with:over:options:)``).
    package nonisolated func serveSync(
        over connection: InMemoryConnection,
        options: SyncOptions = SyncOptions()
    ) async throws(EntenteError) -> SyncReport {
        let configuration = try await syncConfiguration(limits: options.limits)
        let session = SyncSession(role: .server, configuration: configuration)
        let result = await connection.run(
            session,
            store: NodeSyncStore(node: self),
            limits: options.limits,
            observer: options.observer
        )
        return try Self.unwrap(result, partner: "a partner")
    }

    /// Who this replica is and the keys of every pinned partner (read anew for every session, so partners
    /// pinned while a server runs are let in).
    func syncConfiguration(limits: SyncLimits) throws(EntenteError) -> SyncSession.Configuration {
        // The node's own company is trusted too, so that replicas of one company can sync with each other.
        let (partners, revoked) = try reading { tx in
            (try tx.companies().map { ($0.id, $0.card.signingKey) }, try revokedReplicas(tx))
        }
        var configuration = SyncSession.Configuration(
            credentials: credentials,
            partners: Dictionary(partners, uniquingKeysWith: { first, _ in first }),
            limits: limits
        )
        configuration.revoked = revoked
        return configuration
    }

    static func unwrap(_ result: Result<SyncReport, SyncError>, partner: String) throws(EntenteError) -> SyncReport {
        switch result {
        case .success(let report): return report
        case .failure(let error): throw EntenteError(syncError: error, context: "cannot sync with \(partner)")
        }
    }
}

extension Node {
    /// Counts what a sync session sends `partner` (see ``envelopes(for:since:)``) and fixes where in the log it
    /// ends: envelopes logged after this wait for the next session.
    func selectEnvelopes(for partner: CompanyID, since summary: Summary) throws(EntenteError) -> OutgoingSelection {
        let selection = try readingOutgoing(to: partner, since: summary) { tx, held in
            try tx.selectEnvelopes(for: partner, excluding: held)
        }
        return OutgoingSelection(count: selection.count, through: selection.through)
    }

    /// One page of a selection, in log order.
    func envelopes(_ request: OutgoingPageRequest) throws(EntenteError) -> OutgoingPage {
        let page = try readingOutgoing(to: request.partner, since: request.summary) { tx, held in
            try tx.envelopes(
                for: request.partner,
                excluding: held,
                after: request.after,
                through: request.through,
                maxCount: request.maxEnvelopes,
                maxBytes: request.maxBytes
            )
        }
        return OutgoingPage(envelopes: page.envelopes, last: page.last)
    }
}

extension Node.SyncOptions {
    var observer: SyncObserver {
        SyncObserver(progress: progress, received: received)
    }
}

extension EntenteError {
    /// Translates a protocol error into the façade's error, keeping it as the cause; `context` prefixes the
    /// message.
    init(syncError error: SyncError, context: String?) {
        let code: EntenteError.Code =
            switch error.code {
            case .unknownCompany: .unknownCompany
            case .refused, .authenticationFailed, .peerError: .rejected
            case .protocolViolation, .tamperedFrame, .tooLarge, .unsupportedVersion: .badInput
            case .storage: .storage
            case .invalidAddress: .invalidArgument
            default: .network
            }
        self.init(code, context.map { "\($0): \(error.message)" } ?? error.message, cause: error)
    }
}

/// The node as a sync session sees it.
struct NodeSyncStore: SyncStore {
    let node: Node

    func summary() async throws -> Summary {
        try await node.summary()
    }

    func selectEnvelopes(for partner: CompanyID, since summary: Summary) async throws -> OutgoingSelection {
        try await node.selectEnvelopes(for: partner, since: summary)
    }

    func envelopes(_ request: OutgoingPageRequest) async throws -> OutgoingPage {
        try await node.envelopes(request)
    }

    func revocations() async throws -> [ReplicaRevocation] {
        try await node.revocations()
    }

    func admit(_ revocations: [ReplicaRevocation], from peer: CompanyID) async throws -> Int {
        try await node.admitRevocations(revocations)
    }

    /// Imports the batch in transactions of consecutive envelopes, each closed once ``transactionBudget`` has
    /// passed or ``transactionBytes`` are taken, all committed before the batch is acknowledged. If a
    /// transaction's import refuses an envelope, the envelopes it had taken are imported one by one so the good
    /// ones are kept and each refusal is reported (a bundle is all or nothing; a network batch is not, so that
    /// one bad relayed envelope cannot block a partnership for good). A peer whose own envelopes exceed its
    /// storage quota is cut off after the envelopes before them are committed.
    func importBatch(_ envelopes: [[UInt8]], from peer: CompanyID) async throws -> ImportOutcome {
        var outcome = ImportOutcome()
        var start = 0
        while start < envelopes.count, outcome.cutOff == nil {
            let (result, taken) = await node.importFront(
                envelopes[start...],
                budget: Node.transactionBudget,
                maxBytes: Node.transactionBytes
            )
            switch result {
            case .success(let report): outcome.add(Self.outcome(report))
            case .failure(let error) where error.code == .storage: throw error
            case .failure: outcome.add(try await importOneByOne(envelopes[start..<(start + taken)], from: peer))
            }
            start += taken
        }
        return outcome
    }

    /// Envelopes imported one transaction each: the good ones are kept, each refusal reported.
    private func importOneByOne(_ envelopes: ArraySlice<[UInt8]>, from peer: CompanyID) async throws -> ImportOutcome {
        var outcome = ImportOutcome()
        for (index, envelope) in zip(envelopes.indices, envelopes) {
            do throws(EntenteError) {
                outcome.add(Self.outcome(try await node.importEnvelopes([envelope])))
            } catch  where error.code == .storage {
                throw error
            } catch {
                outcome.refused.append("envelope \(index + 1) of the batch was refused: \(error.message)")
                // A partner over its quota with its own envelopes is cut off; relayed ones are refused alone.
                if error.code == .quotaExceeded, (try? Envelope(parsing: envelope))?.origin == peer {
                    outcome.cutOff = error.message
                    break
                }
            }
        }
        return outcome
    }

    /// The session's view of an import; envelopes of revoked replicas count as refused.
    static func outcome(_ report: ImportReport) -> ImportOutcome {
        ImportOutcome(
            applied: report.applied,
            duplicates: report.duplicates,
            waiting: report.waiting,
            operations: report.operations,
            refused: Array(repeating: "signed by a replica its company revoked", count: report.revoked)
        )
    }
}
