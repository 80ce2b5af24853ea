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
    /// Envelopes refused because their company revoked the replica that signed them.
    public var revoked = 0
    /// Replica revocations learnt from this import.
    public var revocations = 0
    /// Notes for the user (for example a newcomer this node cannot reach yet).
    public var notes: [String] = []
}

extension ImportReport {
    /// Adds the report of a later transaction of the same import: counts add up, the waiting envelopes are the
    /// later count (it counts the store's), and notes are kept once each.
    mutating func add(_ later: ImportReport) {
        envelopes += later.envelopes
        applied += later.applied
        duplicates += later.duplicates
        waiting = later.waiting
        operations += later.operations
        resent += later.resent
        revoked += later.revoked
        revocations += later.revocations
        for note in later.notes where !notes.contains(note) { notes.append(note) }
    }
}

extension Node {
    /// What this company already holds, for a partner to send only what is missing.
    public func summary() throws(EntenteError) -> Summary {
        try reading { tx in Summary(company: company, held: try tx.heldSequences(for: company)) }
    }

    /// Every envelope `partner` is entitled to (addressed to it: this node's own and relayed ones), minus
    /// what its summary says it holds.
    public func exportBundle(to partner: CompanyID, since summary: Summary? = nil) throws(EntenteError) -> Bundle {
        Bundle(envelopes: try envelopes(for: partner, since: summary), revocations: try revocations())
    }

    /// The encoded envelopes `partner` is entitled to and its summary does not cover, in log order: what a
    /// bundle or a network sync sends. Envelopes are returned as stored: signed and encrypted by their origin.
    public func envelopes(for partner: CompanyID, since summary: Summary? = nil) throws(EntenteError) -> [[UInt8]] {
        try readingOutgoing(to: partner, since: summary) { tx, held in try tx.envelopes(for: partner, excluding: held) }
    }

    /// Runs `body` in a read transaction with what `partner` holds, once it is known to be a pinned partner and
    /// `summary` (if any) to be its own.
    func readingOutgoing<T>(
        to partner: CompanyID,
        since summary: Summary?,
        _ body: (StoreTransaction, [ReplicaID: UInt64]) throws -> T
    ) throws(EntenteError) -> T {
        if let summary, summary.company != partner {
            throw EntenteError(
                .invalidArgument,
                "the summary is from company \(summary.company.short), not from the recipient \(partner.short)"
            )
        }
        return try reading { tx in
            guard try tx.company(partner) != nil else {
                throw EntenteError(.unknownCompany, "company \(partner.short) is not a pinned partner")
            }
            return try body(tx, summary?.held ?? [:])
        }
    }

    /// Imports a bundle: every envelope is parsed, its certificate and signature verified against the pinned
    /// origin, checked to be addressed to this company, decrypted, clock-checked and merged.
    ///
    /// All or nothing for bad input: the whole bundle is first checked without writing (``checkImport(_:progress:)``),
    /// and if any envelope would be refused, the store is left exactly as it was. The checked bundle is then
    /// merged in transactions of ``transactionBudget`` (a few tens of milliseconds) each, so that the store's
    /// write lock is never held long and local writes and other syncs run in between. Only if the store changes
    /// between the check and the merge in a way that refuses an envelope (another import bringing the same object
    /// with another type, say) does the import stop with the envelopes before it imported; importing the bundle
    /// again resumes it, as every envelope already held is skipped.
    /// `progress` hears how far the check and the merge are.
    @discardableResult
    public func importBundle(
        _ bytes: [UInt8],
        progress: (@Sendable (BundleImportProgress) -> Void)? = nil
    ) async throws(EntenteError) -> ImportReport {
        let bundle: Bundle
        do { bundle = try Bundle(decoding: bytes) } catch { throw EntenteError(.badInput, error.message, cause: error) }
        return try await importChecked(.memory(bundle), progress: progress)
    }

    /// Imports encoded envelopes (from a bundle or a network batch) in one transaction: every envelope is
    /// parsed, verified against its pinned origin, checked to be addressed to this company, decrypted,
    /// clock-checked and merged. All or nothing: if any envelope is bad, the store is left as it was.
    @discardableResult
    public func importEnvelopes(
        _ envelopes: [[UInt8]],
        revocations: [ReplicaRevocation] = []
    ) throws(EntenteError) -> ImportReport {
        var remaining = envelopes.makeIterator()
        return try importEnvelopes(count: envelopes.count, revocations: revocations) { remaining.next() }
    }

    /// How long one transaction of a large import (a network batch, a bundle) may take: it takes another
    /// envelope only if the time so far plus its longest envelope so far fits. With envelopes of at most
    /// ``operationsPerEnvelope`` operations (about 30 ms of merging for a CRM delta), the store's write lock is
    /// held well under 100 ms at a time.
    static let transactionBudget = Duration.milliseconds(60)

    /// Most envelope bytes committed in one transaction of a large import (an envelope larger than this alone),
    /// whatever the time.
    static let transactionBytes = 64 << 10

    /// Checks `source`, then merges it in transactions of ``transactionBudget``, letting other work on this node
    /// run between them (`importBundle`).
    func importChecked(
        _ source: BundleSource,
        progress: (@Sendable (BundleImportProgress) -> Void)? = nil
    ) async throws(EntenteError) -> ImportReport {
        let checksum = try await checkImport(source, progress: progress)
        let reading = try source.open(expecting: checksum)
        var queue = EnvelopeQueue(reading.next)
        var report = ImportReport()
        repeat {
            var budget = CommitBudget(time: Self.transactionBudget, bytes: Self.transactionBytes)
            let done = report.envelopes
            let part = try importEnvelopes(
                count: reading.count,
                first: done,
                revocations: done == 0 ? reading.revocations : [],
                outcome: done == 0
                    ? "nothing was imported"
                    : "the first \(done) envelopes were imported (the store changed after the bundle was checked); import the bundle again to resume"
            ) { () throws(WireError) in try queue.next(within: &budget) }
            report.add(part)
            progress?(.merged(report.envelopes, of: reading.count))
            await Task.yield()
        } while try queue.hasMore()
        return report
    }

    /// Checks a bundle as importing it would, without writing and without holding this node: every envelope is
    /// parsed, verified, opened and clock-checked, and its merge is checked against the objects' creates, known
    /// from the store or from the bundle's envelopes before it (`Merge.refusal(of:creation:)`: a refusal depends
    /// on nothing else). Throws what the import would throw for the first bad envelope. Returns the checksum of
    /// the bundle file checked, if it is one.
    nonisolated func checkImport(
        _ source: BundleSource,
        progress: (@Sendable (BundleImportProgress) -> Void)? = nil
    ) async throws(EntenteError) -> [UInt8]? {
        let bundle = try source.open(expecting: nil)
        try reading { tx in
            var revoked = try revokedReplicas(tx)
            for revocation in try valid(bundle.revocations, tx) {
                revoked[revocation.company, default: []].insert(revocation.replica)
            }
            var allowance = StorageAllowance()
            var held = Set<EnvelopeHash>()
            var creations = BundleCreations()
            var ignored = ImportReport()
            var checked = 0
            try Self.eachEnvelope(count: bundle.count, first: 0, outcome: "nothing was imported", next: bundle.next) {
                raw in
                defer {
                    checked += 1
                    if checked % 100 == 0 || checked == bundle.count { progress?(.checked(checked, of: bundle.count)) }
                }
                let admitted = try admitEnvelope(raw, revoked: revoked, &allowance, tx, &ignored) { envelope in
                    try !held.insert(envelope.hash).inserted || tx.hasEnvelope(envelope.hash)
                }
                if let (envelope, operations) = admitted {
                    try checkMerge(Batch(author: envelope.origin, operations: operations), tx, &creations)
                }
            }
        }
        return bundle.checksum
    }

    /// Throws what merging `batch` would throw, decided from the creates of its objects alone (`creations`,
    /// then the store: `Merge.check`), and notes the creates it makes.
    private nonisolated func checkMerge(_ batch: Batch, _ tx: StoreTransaction, _ creations: inout BundleCreations) throws {
        let parts = batch.parts
        let stored = try tx.creations(of: parts.map(\.object).filter { creations[$0] == nil })
        switch Merge.check(batch, parts: parts, creation: { creations[$0] ?? stored[$0] }) {
        case .failure(let error): throw EntenteError(.rejected, error.message, cause: error)
        case .success(let made): for (object, creation) in made { creations.insert(object, creation) }
        }
    }

    /// Imports envelopes from the front of `envelopes` in one transaction, taking the next one only if the
    /// ``CommitBudget`` allows (the first one always): a network import's unit of commit. Returns the import's
    /// result and how many envelopes it took (on failure, including the refused one).
    func importFront(
        _ envelopes: ArraySlice<[UInt8]>,
        budget: Duration,
        maxBytes: Int
    ) -> (result: Result<ImportReport, EntenteError>, taken: Int) {
        var taken = 0
        var budget = CommitBudget(time: budget, bytes: maxBytes)
        var remaining = envelopes.makeIterator()
        var queue = EnvelopeQueue { remaining.next() }
        do throws(EntenteError) {
            let report = try importEnvelopes(count: envelopes.count, revocations: []) { () throws(WireError) in
                guard let next = try queue.next(within: &budget) else { return nil }
                taken += 1
                return next
            }
            return (.success(report), taken)
        } catch {
            return (.failure(error), max(taken, 1))
        }
    }

    /// Imports `count` envelopes that `next` hands over one at a time (nil after the last), in one transaction.
    /// Errors name an envelope by its place among `count`, the first handed over being number `first` + 1, and
    /// end with the `outcome` of a failure.
    func importEnvelopes(
        count: Int,
        first: Int = 0,
        revocations: [ReplicaRevocation],
        outcome: String = "nothing was imported",
        next: () throws(WireError) -> [UInt8]?
    ) throws(EntenteError) -> ImportReport {
        var report = ImportReport()
        let savedClock = clock
        importChanged.removeAll()
        defer {
            importChanged.removeAll()
            importWaiting = nil
        }
        do {
            try transaction { tx in
                var newcomers = Newcomers()
                importWaiting = try tx.waitingObjects()
                // Revocations first: a bundle that carries a revocation also refuses the revoked envelopes.
                report.revocations = try admit(revocations, tx)
                let revoked = try revokedReplicas(tx)
                var allowance = StorageAllowance()
                // The envelopes taken (an import in several transactions stops before `count`).
                report.envelopes = try Self.eachEnvelope(count: count, first: first, outcome: outcome, next: next) {
                    raw in try importEnvelope(raw, revoked: revoked, &allowance, tx, &report, &newcomers)
                }
                try retryWaiting(tx, &report, &newcomers)
                try resend(to: newcomers, tx, &report)
                report.waiting = try tx.waitingEnvelopeCount()
                try saveClock(tx)
            }
        } catch {
            clock = savedClock
            throw error
        }
        return report
    }

    /// Hands each envelope `next` gives to `body` until it gives nil; returns how many it gave. A failure names
    /// the envelope by its place among `count` (the first given being number `first` + 1) and ends with
    /// `outcome`.
    @discardableResult
    private nonisolated static func eachEnvelope(
        count: Int,
        first: Int,
        outcome: String,
        next: () throws(WireError) -> [UInt8]?,
        _ body: ([UInt8]) throws -> Void
    ) throws(EntenteError) -> Int {
        var index = first
        while true {
            let envelope: [UInt8]?
            do throws(WireError) { envelope = try next() } catch {
                throw EntenteError(.badInput, "\(error.message); \(outcome)", cause: error)
            }
            guard let raw = envelope else { return index - first }
            do { try body(raw) } catch {
                let inner = translate(error)
                throw EntenteError(inner.code, "envelope \(index + 1) of \(count): \(inner.message); \(outcome)", cause: error)
            }
            index += 1
        }
    }

    private func importEnvelope(
        _ raw: [UInt8],
        revoked: [CompanyID: Set<ReplicaID>],
        _ allowance: inout StorageAllowance,
        _ tx: StoreTransaction,
        _ report: inout ImportReport,
        _ newcomers: inout Newcomers
    ) throws {
        let held = { (envelope: Envelope) throws -> Bool in try tx.hasEnvelope(envelope.hash) }
        guard let (envelope, operations) = try admitEnvelope(raw, revoked: revoked, &allowance, tx, &report, held: held) else {
            return
        }
        let rowid = try tx.logEnvelope(envelope)
        if try merge(
            Batch(author: envelope.origin, operations: operations),
            rowid: rowid,
            audience: Set(envelope.audience),
            tx,
            &newcomers
        ) {
            report.applied += 1
            report.operations += operations.count
        }
    }

    /// Takes an envelope as far as its merge: parses it, skips it if it is `held` (counted as a duplicate) or
    /// signed by a `revoked` replica (counted and noted), checks its origin is pinned, its signature and the
    /// origin's quota, opens it and checks its timestamps. Returns it with its operations, or nil if skipped.
    private nonisolated func admitEnvelope(
        _ raw: [UInt8],
        revoked: [CompanyID: Set<ReplicaID>],
        _ allowance: inout StorageAllowance,
        _ tx: StoreTransaction,
        _ report: inout ImportReport,
        held: (Envelope) throws -> Bool
    ) throws -> (Envelope, [Operation])? {
        let envelope = try Envelope(parsing: raw)
        if try held(envelope) {
            report.duplicates += 1
            return nil
        }
        guard let origin = try tx.company(envelope.origin) else {
            throw EntenteError(
                .unknownCompany,
                "it comes from company \(envelope.origin.short), which is not a pinned partner (add its card with `entente partner add`)"
            )
        }
        try envelope.verify(companyKey: origin.card.signingKey)
        // Only the replica's own company can revoke it: statements are looked up under the origin.
        if revoked[envelope.origin]?.contains(envelope.replica) == true {
            if report.revoked == 0 {
                report.notes.append(
                    "refused envelopes signed by replica \(envelope.replica.short) of \(origin.name), which its company revoked"
                )
            }
            report.revoked += 1
            return nil
        }
        try allowance.charge(raw.count, to: origin, tx)
        let operations = try envelope.open(as: company, with: encryptionKey)
        let now = options.now()
        for operation in operations {
            do { try HybridClock.check(operation.timestamp, now: now, maxDrift: options.maxClockDrift) } catch {
                throw EntenteError(.rejected, "it carries a timestamp from the future: \(error)", cause: error)
            }
        }
        return (envelope, operations)
    }

    /// Merges a logged envelope's batch (or one waiting part of it): records each object part as applied or
    /// waiting, persists the states, rebuilds objects where a removal arrived, and throws if anything is
    /// refused. A waiting part that is `retried` and that its object's create, now known, refuses throws
    /// ``LateRefusal``: its envelope is then refused whole (`refuseLate`), and the import that let the part be
    /// examined goes on. Returns true if some part was applied.
    @discardableResult
    func merge(
        _ batch: Batch,
        rowid: Int64,
        audience: Set<CompanyID>,
        retried: Bool = false,
        _ tx: StoreTransaction,
        _ newcomers: inout Newcomers
    ) throws -> Bool {
        let parts = batch.parts
        var states = try loadStates(of: parts, tx)
        let previous = states
        let result: MergeResult
        switch Merge.apply(batch, parts: parts, to: &states) {
        case .reject(let error) where retried: throw LateRefusal(error: error)
        case .reject(let error): throw EntenteError(.rejected, error.message, cause: error)
        case .merged(let merged): result = merged
        }
        var applied = false
        for (object, part) in parts {
            if let reason = result.waiting[object] {
                try tx.setPart(rowid, object, waiting: reason)
                importWaiting?.insert(object)
                continue
            }
            // An applied part's state is in `states` (Merge.apply puts it there), and saved before its part.
            guard let state = states[object] else { continue }
            applied = true
            try tx.saveObject(state, previous: previous[object])
            try tx.setPart(rowid, object, waiting: nil)
            // Only a change to an object with waiting parts can let one of them apply.
            if importWaiting?.contains(object) ?? true { importChanged.insert(object) }
            for operation in part.operations {
                clock.observe(operation.timestamp)
                // This company joining needs no re-sending (a full sync makes it join every object it receives).
                if case .addParticipant(let newcomer) = operation.kind, newcomer != company,
                    previous[object]?.isParticipant(newcomer) != true,
                    state.isParticipant(newcomer)
                {
                    newcomers.insert(object, newcomer)
                }
            }
            if state.owner == company {
                try relayMissedWrites(part, audience: audience, state: state, tx)
            }
        }
        if !subscribers.isEmpty {
            record(
                from: previous,
                to: states.filter { result.waiting[$0.key] == nil },
                author: batch.author,
                isLocal: false
            )
        }
        for object in result.rebuild { try rebuild(object, tx) }
        return applied
    }

    /// The states of the parts' objects (unknown ones left out), each with the fields its part writes, loaded
    /// together (a few queries per 500 objects, reading only those fields). Every state is saved as it is merged,
    /// so what a later envelope of the same import loads is current. (A cache of merged states across envelopes
    /// cost more than the loads it saved: `Specs/storage.md`.)
    private func loadStates(
        of parts: [(object: ObjectID, part: Batch)],
        _ tx: StoreTransaction
    ) throws -> [ObjectID: ObjectState] {
        var fields: Set<FieldKey> = []
        for (_, part) in parts {
            for operation in part.operations {
                if let key = operation.field { fields.insert(key) }
            }
        }
        return try tx.loadObjects(parts.map(\.object), fields: fields)
    }

    /// The owner forwards what a current participant is entitled to but whose envelope missed it (its writer had
    /// not heard of the invitation yet): joint writes by anyone, and this company's own fields and ownership
    /// operations made on another of its replicas. Each keeps its original writer and timestamp.
    private func relayMissedWrites(
        _ part: Batch,
        audience: Set<CompanyID>,
        state: ObjectState,
        _ tx: StoreTransaction
    ) throws {
        for member in state.participants.subtracting(audience).subtracting([company]).sorted() {
            let operations = part.operations.filter { operation in
                guard let key = operation.field else { return false }
                switch operation.kind {
                case .set(_, _, let visibility, _), .addElement(_, _, let visibility),
                    .removeElement(_, _, _, let visibility):
                    return key.namespace == .joint
                        || (key.namespace == .company(company)
                            && state.audience(of: key, visibility: visibility).contains(member))
                default: return false
                }
            }.map { operation in
                let writer = operation.writer ?? part.author
                return Operation(
                    object: operation.object,
                    timestamp: operation.timestamp,
                    kind: operation.kind,
                    writer: writer == company ? nil : writer
                )
            }
            // Ownership operations made on another replica of this company travel in their own envelope
            // (a part may not mix them with re-sent writes).
            let ownership = part.author == company ? part.operations.filter(\.isOwnerOperation) : []
            guard try tx.company(member) != nil else { continue }
            try emit(ownership, to: [member], states: [state.id: state], tx, logParts: false)
            try emit(operations, to: [member], states: [state.id: state], tx, logParts: false)
        }
    }

    /// Recomputes an object from every logged part for it (applied or waiting): a removal that arrived late
    /// may invalidate writes already applied (`Specs/crdt.md`, "Membership"), and an envelope refused late takes
    /// its parts away. An object whose create went that way is deleted.
    func rebuild(_ object: ObjectID, _ tx: StoreTransaction) throws {
        let logged = try tx.parts(of: object)
        var batches: [Batch] = []
        for part in logged {
            let envelope = try Envelope(parsing: part.bytes)
            let operations = try envelope.open(as: company, with: encryptionKey)
            batches.append(Batch(author: envelope.origin, operations: operations).part(object))
        }
        let previous = try tx.loadObject(object)
        let (state, waiting) = Merge.rebuild(object, from: batches)
        if state.exists { try tx.replaceObject(state) }
        importChanged.insert(object)
        for (part, reason) in zip(logged, waiting) where part.waiting != reason {
            try tx.setPart(part.envelope, object, waiting: reason)
            if reason != nil { importWaiting?.insert(object) }
        }
        guard state.exists else {
            if let previous {
                try tx.deleteObject(object)
                recordRemoval(of: previous)
            }
            return
        }
        record(from: previous.map { [object: $0] } ?? [:], to: [object: state], author: company, isLocal: false)
    }

    /// Refuses a logged envelope whole once one of its waiting parts turns out refused (`Specs/crdt.md`,
    /// "Refusals first"): its parts stop counting (the envelope stays logged, so it is not taken again) and every
    /// object it touched is rebuilt without it, as on a replica that refused it on arrival.
    func refuseLate(_ batch: Batch, rowid: Int64, _ tx: StoreTransaction) throws {
        for object in batch.objects {
            try tx.removePart(rowid, object)
            try rebuild(object, tx)
        }
    }

    /// Retries the waiting parts of objects whose state changed, until nothing more applies. A part's decision
    /// depends only on its own object's state, so parts of untouched objects (for example the late writes of a
    /// removed company, which wait for good) are not decrypted again.
    func retryWaiting(
        _ tx: StoreTransaction,
        _ report: inout ImportReport,
        _ newcomers: inout Newcomers
    ) throws {
        while !importChanged.isEmpty {
            let objects = importChanged
            importChanged.removeAll()
            var refused = Set<Int64>()
            for waiting in try tx.waitingParts(of: objects) where !refused.contains(waiting.envelope) {
                let envelope = try Envelope(parsing: waiting.bytes)
                let operations = try envelope.open(as: company, with: encryptionKey)
                let batch = Batch(author: envelope.origin, operations: operations)
                let part = batch.part(waiting.object)
                do {
                    if try merge(
                        part,
                        rowid: waiting.envelope,
                        audience: Set(envelope.audience),
                        retried: true,
                        tx,
                        &newcomers
                    ) {
                        report.applied += 1
                        report.operations += part.operations.count
                    }
                } catch let late as LateRefusal {
                    refused.insert(waiting.envelope)
                    try refuseLate(batch, rowid: waiting.envelope, tx)
                    report.notes.append(
                        "refused an envelope from \(envelope.origin.short) whose part for \(waiting.object.short) waited for that object, now that it arrived: \(late.error.message); its other parts were taken back"
                    )
                }
            }
        }
    }

    /// Re-sends this company's shared fields of objects it takes part in (but does not own) to newly invited
    /// participants. The owner sends its snapshot when it invites.
    private func resend(
        to newcomers: Newcomers,
        _ tx: StoreTransaction,
        _ report: inout ImportReport
    ) throws {
        for (newcomer, objects) in newcomers.byCompany where newcomer != company {
            let pinned = try tx.company(newcomer) != nil
            var start = 0
            while start < objects.count {
                let chunk = Array(objects[start..<min(start + 500, objects.count)])
                start += chunk.count
                // Only this company's own fields are re-sent, so only objects holding some are loaded, 500 at a
                // time (a full sync invites partners to thousands of objects, and this company usually has no
                // fields on them yet).
                let holding = try tx.objects(chunk, withFieldsIn: .company(company))
                guard !holding.isEmpty else { continue }
                let states = try tx.loadObjects(chunk.filter(holding.contains))
                for object in chunk {
                    guard let state = states[object], state.owner != company, state.isParticipant(company) else {
                        continue
                    }
                    let operations =
                        state.reemission(of: company, for: newcomer)
                        + tombstoneOperations(state, for: newcomer, writable: { $0.namespace == .company(company) })
                    guard !operations.isEmpty else { continue }
                    guard pinned else {
                        report.notes.append(
                            "company \(newcomer.short) joined \(object.short) but is not a pinned partner here: add its card, then update your fields so it receives them"
                        )
                        continue
                    }
                    report.resent += try emit(operations, to: [newcomer], states: [object: state], tx, logParts: false)
                }
            }
        }
    }

    /// Describes each envelope of a bundle; envelopes addressed to this company are decrypted.
    public func inspect(_ bytes: [UInt8]) throws(EntenteError) -> [EnvelopeInfo] {
        let bundle: Bundle
        do { bundle = try Bundle(decoding: bytes) } catch { throw EntenteError(.badInput, error.message, cause: error) }
        var remaining = bundle.envelopes.makeIterator()
        return try inspect { remaining.next() }
    }

    /// Describes the envelopes `next` hands over one at a time (nil after the last).
    func inspect(_ next: () throws(WireError) -> [UInt8]?) throws(EntenteError) -> [EnvelopeInfo] {
        try reading { tx in
            let names = try tx.companyNames()
            var infos: [EnvelopeInfo] = []
            while let raw = try next() {
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
                if envelope.audience.contains(company),
                    let operations = try? envelope.open(as: company, with: encryptionKey)
                {
                    info.operations = operations.map { describe($0, names: names) }
                }
                infos.append(info)
            }
            return infos
        }
    }

    nonisolated func describe(_ operation: Operation, names: [CompanyID: String]) -> String {
        func name(_ company: CompanyID) -> String { names[company] ?? company.short }
        func field(_ key: FieldKey) -> String {
            switch key.namespace {
            case .joint: "joint.\(key.name)"
            case .company(let owner): "\(name(owner)).\(key.name)"
            }
        }
        func audience(_ visibility: Visibility) -> String {
            switch visibility {
            case .private: "private"
            case .participants: "all participants"
            case .companies(let set): set.map(name).sorted().joined(separator: ", ")
            }
        }
        let object = operation.object.short
        let via = operation.writer.map { " (written by \(name($0)))" } ?? ""
        switch operation.kind {
        case .create(let type, _): return "create \(type) \(object)"
        case .addParticipant(let company): return "invite \(name(company)) to \(object)"
        case .removeParticipant(let company): return "remove \(name(company)) from \(object)"
        case .archive(let flag): return flag ? "archive \(object)" : "restore \(object)"
        case .set(let key, let value, let visibility, _):
            return "set \(object) \(field(key)) = \(value) [\(audience(visibility))]\(via)"
        case .addElement(let key, let element, let visibility):
            return "add \(element) to \(object) \(field(key)) [\(audience(visibility))]\(via)"
        case .removeElement(let key, let element, _, let visibility):
            return "remove \(element) from \(object) \(field(key)) [\(audience(visibility))]"
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

/// Companies newly invited to objects during one import, in the order their invitations were merged, each
/// (object, company) once.
struct Newcomers {
    /// Per partner, the objects it was newly invited to (16 bytes each: a full sync invites partners to every
    /// object it receives, so no set of pairs is kept; duplicates are dropped when read).
    private var objects: [CompanyID: [ObjectID]] = [:]

    mutating func insert(_ object: ObjectID, _ company: CompanyID) {
        objects[company, default: []].append(object)
    }

    /// Each partner (in id order) with its objects, once each, in id order.
    var byCompany: [(company: CompanyID, objects: [ObjectID])] {
        objects.sorted { $0.key < $1.key }.map { company, list in
            var unique: [ObjectID] = []
            unique.reserveCapacity(list.count)
            for object in list.sorted() where unique.last != object { unique.append(object) }
            return (company, unique)
        }
    }
}

/// A waiting part that its object's create, once known, refuses: its envelope is refused whole.
struct LateRefusal: Error {
    let error: AuthorityError
}

/// How far a bundle import is: its envelopes are all checked first, then merged a transaction at a time.
public enum BundleImportProgress: Hashable, Sendable {
    /// The first envelopes checked, of the bundle's.
    case checked(Int, of: Int)
    /// The first envelopes merged and committed, of the bundle's.
    case merged(Int, of: Int)
}

/// A bundle to import, which an import reads twice: once to check it, once to merge it.
enum BundleSource: Sendable {
    case memory(Bundle)
    case file(path: String)

    /// One reading of the bundle: its envelope count, revocations and checksum (of a file), and its envelopes.
    struct Reading {
        var count: Int
        var revocations: [ReplicaRevocation]
        var checksum: [UInt8]?
        var next: () throws(WireError) -> [UInt8]?
    }

    /// Reads the bundle from its start. A file is checked whole first (size, format, checksum), and refused if
    /// its checksum is not `expected` (the file changed since it was checked).
    func open(expecting expected: [UInt8]?) throws(EntenteError) -> Reading {
        switch self {
        case .memory(let bundle):
            var remaining = bundle.envelopes.makeIterator()
            return Reading(count: bundle.envelopes.count, revocations: bundle.revocations, checksum: nil) {
                remaining.next()
            }
        case .file(let path):
            let reader = try Node.openBundle(path)
            if let expected, reader.checksum != expected {
                throw EntenteError(
                    .badInput,
                    "the bundle file \(path) changed after it was checked; nothing was imported"
                )
            }
            return Reading(count: reader.count, revocations: reader.revocations, checksum: reader.checksum) {
                () throws(WireError) in try reader.next()
            }
        }
    }
}

/// Envelopes handed over one at a time, with a look at the next one before it is taken.
struct EnvelopeQueue {
    private let source: () throws(WireError) -> [UInt8]?
    private var pending: [UInt8]?
    private var ended = false

    init(_ source: @escaping () throws(WireError) -> [UInt8]?) { self.source = source }

    /// The next envelope, left in the queue (nil after the last).
    private mutating func peek() throws(WireError) -> [UInt8]? {
        if pending == nil, !ended {
            pending = try source()
            ended = pending == nil
        }
        return pending
    }

    /// Takes the next envelope if `budget` admits it into the current transaction; nil after the last, or when
    /// the transaction is full (the envelope stays for the next one).
    mutating func next(within budget: inout CommitBudget) throws(WireError) -> [UInt8]? {
        guard let next = try peek(), budget.admits(next.count) else { return nil }
        pending = nil
        return next
    }

    /// True while an envelope is left.
    mutating func hasMore() throws(EntenteError) -> Bool {
        do { return try peek() != nil } catch { throw EntenteError(.badInput, error.message, cause: error) }
    }
}

/// When one transaction of a large import stops taking envelopes: it takes the next one only if the time so far
/// plus its longest envelope so far fits in `time`, and its bytes fit in `bytes` (the first one always).
struct CommitBudget {
    let time: Duration
    let bytes: Int
    private var began: ContinuousClock.Instant?
    private var handed: ContinuousClock.Instant?
    private var longest = Duration.zero
    private var taken = 0
    private var used = 0

    init(time: Duration, bytes: Int) {
        self.time = time
        self.bytes = bytes
    }

    /// Asked before an envelope of `size` bytes is handed over; true if the transaction takes it.
    mutating func admits(_ size: Int) -> Bool {
        let now = ContinuousClock.now
        if let handed { longest = max(longest, now - handed) }
        if let began, now - began + longest > time { return false }
        guard taken == 0 || used + size <= bytes else { return false }
        began = began ?? now
        handed = now
        taken += 1
        used += size
        return true
    }
}

/// The creates a bundle's check found applied, compactly: a full sync creates every object of a pipeline, so
/// each object keeps only an index into the few (owner, type) pairs seen. The nonce is bound by the object's id
/// (`Creation.nonce`), so it is not kept.
struct BundleCreations {
    private var objects: [ObjectID: UInt32] = [:]
    private var kinds: [Creation] = []
    private var kindIndex: [Creation: UInt32] = [:]

    subscript(object: ObjectID) -> Creation? { objects[object].map { kinds[Int($0)] } }

    mutating func insert(_ object: ObjectID, _ creation: Creation) {
        let kind = Creation(owner: creation.owner, type: creation.type, nonce: nil)
        let index: UInt32
        if let known = kindIndex[kind] {
            index = known
        } else {
            index = UInt32(kinds.count)
            kinds.append(kind)
            kindIndex[kind] = index
        }
        objects[object] = index
    }
}
