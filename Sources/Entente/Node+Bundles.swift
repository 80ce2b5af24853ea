import EntenteCore
import EntenteStore
import EntenteSync
import EntenteWire

/// What an import did.
public struct ImportReport: Hashable, Sendable {
    /// Envelopes in the bundle.
    public var envelopes = 0
    /// Envelopes merged now (including earlier waiting ones whose dependencies arrived).
    public var applied = 0
    /// Envelopes already held: skipped.
    public var duplicates = 0
    /// Envelopes kept but not yet merged: they wait for an operation they depend on.
    public var waiting = 0
    /// Operations merged.
    public var operations = 0
    /// Envelopes this node sealed in response (its fields re-sent to a newly invited partner).
    public var resent = 0
    /// Notes for the user (for example a newcomer this node cannot reach yet).
    public var notes: [String] = []
}

extension Node {
    /// What this company already holds, for a partner to send only what is missing.
    public func summary() throws(EntenteError) -> Summary {
        try reading { tx in Summary(company: company, held: try tx.heldSequences(for: company)) }
    }

    /// Every envelope `partner` is entitled to (addressed to it: this node's own and relayed ones), minus
    /// what its summary says it holds.
    public func exportBundle(to partner: CompanyID, since summary: Summary? = nil) throws(EntenteError) -> Bundle {
        Bundle(envelopes: try envelopes(for: partner, since: summary))
    }

    /// The encoded envelopes `partner` is entitled to and its summary does not cover, in log order: what a
    /// bundle or a network sync sends. Envelopes are returned as stored: signed and encrypted by their origin.
    public func envelopes(for partner: CompanyID, since summary: Summary? = nil) throws(EntenteError) -> [[UInt8]] {
        if let summary, summary.company != partner {
            throw EntenteError(.invalidArgument, "the summary is from company \(summary.company.short), not from the recipient \(partner.short)")
        }
        return try reading { tx in
            guard try tx.company(partner) != nil else { throw EntenteError(.unknownCompany, "company \(partner.short) is not a pinned partner") }
            return try tx.envelopes(for: partner, excluding: summary?.held ?? [:])
        }
    }

    /// Imports a bundle: every envelope is parsed, its certificate and signature verified against the pinned
    /// origin, checked to be addressed to this company, decrypted, clock-checked and merged. All or nothing:
    /// if any envelope is bad, the store is left exactly as it was.
    @discardableResult
    public func importBundle(_ bytes: [UInt8]) throws(EntenteError) -> ImportReport {
        let bundle: Bundle
        do { bundle = try Bundle(decoding: bytes) } catch { throw EntenteError(.badInput, error.message, cause: error) }
        return try importEnvelopes(bundle.envelopes)
    }

    /// Imports encoded envelopes (from a bundle or a network batch) in one transaction: every envelope is
    /// parsed, verified against its pinned origin, checked to be addressed to this company, decrypted,
    /// clock-checked and merged. All or nothing: if any envelope is bad, the store is left as it was.
    @discardableResult
    public func importEnvelopes(_ envelopes: [[UInt8]]) throws(EntenteError) -> ImportReport {
        let bundle = Bundle(envelopes: envelopes)
        var report = ImportReport()
        report.envelopes = bundle.envelopes.count
        let savedClock = clock
        do {
            try transaction { tx in
                var newcomers: [(ObjectID, CompanyID)] = []
                for (index, raw) in bundle.envelopes.enumerated() {
                    do {
                        try importEnvelope(raw, tx, &report, &newcomers)
                    } catch {
                        let inner = Self.translate(error)
                        throw EntenteError(
                            inner.code,
                            "envelope \(index + 1) of \(bundle.envelopes.count): \(inner.message); nothing was imported",
                            cause: error
                        )
                    }
                }
                try retryWaiting(tx, &report, &newcomers)
                try resend(to: newcomers, tx, &report)
                report.waiting = try tx.waitingEnvelopes().count
                try saveClock(tx)
            }
        } catch {
            clock = savedClock
            throw error
        }
        return report
    }

    private func importEnvelope(_ raw: [UInt8], _ tx: StoreTransaction, _ report: inout ImportReport, _ newcomers: inout [(ObjectID, CompanyID)]) throws {
        let envelope = try Envelope(parsing: raw)
        if try tx.hasEnvelope(envelope.hash) {
            report.duplicates += 1
            return
        }
        guard let origin = try tx.company(envelope.origin) else {
            throw EntenteError(
                .unknownCompany,
                "it comes from company \(envelope.origin.short), which is not a pinned partner (add its card with `entente partner add`)"
            )
        }
        try envelope.verify(companyKey: origin.card.signingKey)
        let operations = try envelope.open(as: company, with: encryptionKey)
        let now = options.now()
        for operation in operations {
            do { try clock.check(operation.timestamp, now: now) } catch {
                throw EntenteError(.rejected, "it carries a timestamp from the future: \(error)", cause: error)
            }
        }
        let rowid = try tx.logEnvelope(envelope, status: .waiting)
        try merge(Batch(author: envelope.origin, operations: operations), rowid: rowid, tx, &report, &newcomers)
    }

    /// Merges a logged envelope's batch; marks it applied or leaves it waiting; throws if refused.
    @discardableResult
    private func merge(_ batch: Batch, rowid: Int64, _ tx: StoreTransaction, _ report: inout ImportReport, _ newcomers: inout [(ObjectID, CompanyID)]) throws -> Bool {
        var states: [ObjectID: ObjectState] = [:]
        for id in batch.objects { states[id] = try tx.loadObject(id) }
        let previous = states
        switch Merge.apply(batch, to: &states) {
        case .reject(let error):
            throw EntenteError(.rejected, error.message, cause: error)
        case .wait(let reason):
            try tx.setStatus(rowid, .waiting, note: reason)
            return false
        case .applied:
            for (id, state) in states { try tx.saveObject(state, previous: previous[id]) }
            record(from: previous.compactMapValues { $0 }, to: states, author: batch.author, isLocal: false)
            for operation in batch.operations {
                clock.observe(operation.timestamp)
                if case .addParticipant(let newcomer) = operation.kind, previous[operation.object]?.isParticipant(newcomer) != true,
                    !newcomers.contains(where: { $0 == (operation.object, newcomer) })
                {
                    newcomers.append((operation.object, newcomer))
                }
            }
            try tx.setStatus(rowid, .applied)
            report.applied += 1
            report.operations += batch.operations.count
            return true
        }
    }

    /// Retries waiting envelopes until a pass makes no progress.
    private func retryWaiting(_ tx: StoreTransaction, _ report: inout ImportReport, _ newcomers: inout [(ObjectID, CompanyID)]) throws {
        var progress = true
        while progress {
            progress = false
            for waiting in try tx.waitingEnvelopes() {
                let envelope = try Envelope(parsing: waiting.bytes)
                let operations = try envelope.open(as: company, with: encryptionKey)
                if try merge(Batch(author: envelope.origin, operations: operations), rowid: waiting.rowid, tx, &report, &newcomers) {
                    progress = true
                }
            }
        }
    }

    /// Re-sends this company's shared fields of objects it takes part in (but does not own) to newly invited
    /// participants. The owner sends its snapshot when it invites.
    private func resend(to newcomers: [(ObjectID, CompanyID)], _ tx: StoreTransaction, _ report: inout ImportReport) throws {
        for (object, newcomer) in newcomers where newcomer != company {
            guard let state = try tx.loadObject(object), state.owner != company, state.isParticipant(company) else { continue }
            let operations = state.reemission(of: company, for: newcomer)
            guard !operations.isEmpty else { continue }
            guard try tx.company(newcomer) != nil else {
                report.notes.append(
                    "company \(newcomer.short) joined \(object.short) but is not a pinned partner here: add its card, then update your fields so it receives them"
                )
                continue
            }
            report.resent += try emit(operations, to: [newcomer], tx)
        }
    }

    /// Describes each envelope of a bundle; envelopes addressed to this company are decrypted.
    public func inspect(_ bytes: [UInt8]) throws(EntenteError) -> [EnvelopeInfo] {
        let bundle: Bundle
        do { bundle = try Bundle(decoding: bytes) } catch { throw EntenteError(.badInput, error.message, cause: error) }
        return try reading { tx in
            let names = try names(tx)
            return try bundle.envelopes.map { raw in
                let envelope = try Envelope(parsing: raw)
                var info = EnvelopeInfo(
                    hash: envelope.hash.description,
                    origin: names[envelope.origin] ?? envelope.origin.short,
                    replica: envelope.replica.short,
                    audience: envelope.audience.map { names[$0] ?? $0.short },
                    bytes: raw.count,
                    verified: false,
                    operations: nil
                )
                if let origin = try tx.company(envelope.origin) {
                    info.verified = (try? envelope.verify(companyKey: origin.card.signingKey)) != nil
                }
                if envelope.audience.contains(company), let operations = try? envelope.open(as: company, with: encryptionKey) {
                    info.operations = operations.map { describe($0, names: names) }
                }
                return info
            }
        }
    }

    nonisolated func describe(_ operation: Operation, names: [CompanyID: String]) -> String {
        switch operation.kind {
        case .create(let type, _): return "create \(type) \(operation.object.short)"
        case .addParticipant(let company): return "invite \(names[company] ?? company.short) to \(operation.object.short)"
        case .set(let key, let value, let visibility):
            let space: String
            switch key.namespace {
            case .joint: space = "joint"
            case .company(let owner): space = names[owner] ?? owner.short
            }
            let audience: String
            switch visibility {
            case .private: audience = "private"
            case .participants: audience = "all participants"
            case .companies(let set): audience = set.map { names[$0] ?? $0.short }.sorted().joined(separator: ", ")
            }
            return "set \(operation.object.short) \(space).\(key.name) = \(value) [\(audience)]"
        }
    }
}

/// One envelope of a bundle, as `inspect` describes it.
public struct EnvelopeInfo: Hashable, Sendable, Codable {
    /// BLAKE2b-256 of the envelope, hex.
    public var hash: String
    /// The origin company's name (or id prefix if unknown).
    public var origin: String
    /// The origin replica's id prefix.
    public var replica: String
    /// The audience companies.
    public var audience: [String]
    /// The envelope's size.
    public var bytes: Int
    /// True if the signature and certificate verify against a pinned key.
    public var verified: Bool
    /// The decrypted operations, if the envelope is addressed to this company.
    public var operations: [String]?
}
