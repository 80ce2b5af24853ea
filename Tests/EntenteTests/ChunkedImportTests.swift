import EntenteCore
import EntenteSync
import EntenteWire
import Foundation
import Synchronization
import Testing

@testable import Entente

/// A large bundle is checked whole, then merged in short transactions: bad input anywhere in it still changes
/// nothing, and a good one ends as one transaction would have left it.
@Suite struct ChunkedImportTests {
    /// A deal where Globex created `count` opportunities with Initech and Umbra; returns Globex's bundle for
    /// Initech (several hundred kilobytes: more than one transaction's bytes).
    func largeDeal(_ count: Int = 3_000) async throws -> (Deal, [ObjectID], [UInt8]) {
        let deal = try await Deal.make()
        let records = (0..<count).map { index in
            var changes = Changes()
            changes.joint = [
                FieldValue("title", "Deal \(index) with a name long enough to take room \(index * 7_919)"),
                FieldValue("stage", .enumeration("qualified")),
                FieldValue("next_step", "Call \(index * 104_729) about the renewal"),
            ]
            changes.privateFields = [FieldValue("deal_size", "\(1_000 + index)")]
            return changes
        }
        let ids = try await deal.globex.createMany(
            type: "opportunity",
            records: records,
            with: [deal.initech.company, deal.umbra.company]
        )
        let bundle = try await deal.globex.exportBundle(to: deal.initech.company).encoded()
        if count >= 3_000 {
            #expect(bundle.count > 3 * Node.transactionBytes, "the bundle must span several transactions")
        }
        return (deal, ids, bundle)
    }

    /// An envelope signed by `author`'s replica for `recipient`, carrying `kind` for `object`.
    func forge(_ kind: EntenteCore.Operation.Kind, on object: ObjectID, by author: Node, to recipient: Node) throws
        -> [UInt8]
    {
        let operation = EntenteCore.Operation(
            object: object,
            timestamp: Timestamp(physical: UInt64(Date().timeIntervalSince1970 * 1000), counter: 0, replica: author.replica),
            kind: kind
        )
        let addressee = Addressee(company: recipient.company, encryptionKey: recipient.card.encryptionKey, sequence: 90)
        return try Envelope.seal([operation], from: author.credentials, to: [addressee]).bytes
    }

    @Test func aLargeBundleMergesInSeveralTransactionsAsOneWould() async throws {
        let (deal, _, bundle) = try await largeDeal()
        defer { deal.cleanUp() }
        let envelopes = try Bundle(decoding: bundle).envelopes
        _ = deal.initech.takeWriteStatistics()
        let heard = Mutex<[BundleImportProgress]>([])
        let report = try await deal.initech.importBundle(bundle) { step in heard.withLock { $0.append(step) } }
        let writes = deal.initech.takeWriteStatistics()
        // Progress: the whole bundle is checked before anything is merged, then merged a transaction at a time.
        let steps = heard.withLock { $0 }
        let total = envelopes.count
        let checked = steps.compactMap { if case .checked(let done, total) = $0 { done } else { nil } }
        let merged = steps.compactMap { if case .merged(let done, total) = $0 { done } else { nil } }
        #expect(checked.count + merged.count == steps.count, "every step counts the bundle's \(total) envelopes")
        #expect(checked.last == total && checked == checked.sorted())
        #expect(merged.last == total && merged == merged.sorted() && merged.count == writes.transactions)
        #expect(steps.prefix(checked.count).allSatisfy { if case .checked = $0 { true } else { false } })
        #expect(writes.transactions > 3, "a bundle of \(bundle.count) bytes merged in \(writes.transactions) transactions")
        #expect(report.envelopes == envelopes.count)
        #expect(report.applied == envelopes.count)
        #expect(report.duplicates == 0)
        // Umbra merges the same envelopes in one transaction: both show the same.
        let umbraBundle = try await deal.globex.exportBundle(to: deal.umbra.company)
        let single = try await deal.umbra.importEnvelopes(umbraBundle.envelopes)
        #expect(single.operations == report.operations)
        let initechObjects = try await deal.initech.objects().map(\.id).sorted()
        #expect(initechObjects == (try await deal.umbra.objects().map(\.id).sorted()))
        for id in initechObjects.prefix(20) {
            let seenByInitech = try await deal.initech.object(id)
            let seenByUmbra = try await deal.umbra.object(id)
            #expect(seenByInitech.joint == seenByUmbra.joint)
            #expect(seenByInitech.participants.map(\.id) == seenByUmbra.participants.map(\.id))
        }
        // Importing it again finds every envelope held.
        let again = try await deal.initech.importBundle(bundle)
        #expect(again.duplicates == envelopes.count)
        #expect(again.applied == 0)
    }

    /// Between a bundle's transactions the node serves other calls: a local write asked for once the first
    /// transaction committed finishes before the import does.
    @Test func aLocalWriteRunsBetweenTheTransactionsOfABundleImport() async throws {
        let (deal, _, bundle) = try await largeDeal(6_000)
        defer { deal.cleanUp() }
        let node = deal.initech
        let events = Events()
        let report = try await node.importBundle(bundle) { step in
            guard case .merged(let done, let total) = step, done < total, events.ask() else { return }
            Task { [events] in
                var changes = Changes()
                changes.joint = [FieldValue("title", "Written during the import")]
                _ = try await node.create(type: "opportunity", changes: changes, with: [])
                events.append("local write")
            }
        }
        events.append("import")
        #expect(report.envelopes > 0)
        // The write was asked for with transactions still to come; it ran between two of them.
        try await Task.sleep(for: .milliseconds(10))
        #expect(events.list == ["local write", "import"], "\(events.list)")
    }

    /// What happened, in order, across tasks.
    final class Events: Sendable {
        private let state = Mutex<(list: [String], asked: Bool)>(([], false))
        var list: [String] { state.withLock { $0.list } }
        func append(_ event: String) { state.withLock { $0.list.append(event) } }
        /// True the first time only.
        func ask() -> Bool {
            state.withLock { state in
                defer { state.asked = true }
                return !state.asked
            }
        }
    }

    /// A refusal that only merging can tell (a partner inviting a company to an object it does not own), placed
    /// after several transactions' worth of good envelopes, keeps the whole bundle out, as a file too.
    @Test func aRefusalAtTheEndOfALargeBundleImportsNothing() async throws {
        let (deal, ids, bundle) = try await largeDeal()
        defer { deal.cleanUp() }
        let envelopes = try Bundle(decoding: bundle).envelopes
        let invite = try forge(.addParticipant(deal.initech.company), on: ids[7], by: deal.umbra, to: deal.initech)
        let bad = Bundle(envelopes: envelopes + [invite]).encoded()
        let before = try await fingerprint(deal.initech)
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("chunked-\(UUID().uuidString).bundle")
        try Data(bad).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        _ = deal.initech.takeWriteStatistics()
        for (label, attempt) in [
            ("in memory", { () async throws(EntenteError) in _ = try await deal.initech.importBundle(bad) }),
            ("as a file", { () async throws(EntenteError) in _ = try await deal.initech.importBundle(file: file.path) }),
        ] {
            do throws(EntenteError) {
                try await attempt()
                Issue.record("\(label): a bundle ending with a non-owner's invitation was imported")
            } catch {
                #expect(error.code == .rejected, "\(label): \(error.message)")
                #expect(error.message.contains("envelope \(envelopes.count + 1) of \(envelopes.count + 1)"), "\(error.message)")
                #expect(error.message.contains("only the owner"), "\(error.message)")
                #expect(error.message.hasSuffix("nothing was imported"), "\(error.message)")
            }
        }
        #expect(deal.initech.takeWriteStatistics().transactions == 0, "the check writes nothing")
        #expect(try await fingerprint(deal.initech) == before)
        // Without it, the bundle imports.
        #expect(try await deal.initech.importBundle(bundle).applied == envelopes.count)
    }

    /// An envelope from a partner with a valid write to one object and an invitation to another that it does
    /// not own: a node that does not know the second object yet applies the write, and once the object arrives
    /// refuses the envelope whole and takes the write back, as a node that knew both refuses it on arrival. The
    /// import that brings the object goes through.
    @Test func anEnvelopeRefusedLateIsTakenBackWhole() async throws {
        let deal = try await Deal.make()
        defer { deal.cleanUp() }
        var changes = Changes()
        changes.joint = [FieldValue("title", "Known"), FieldValue("stage", .enumeration("qualified"))]
        let known = try await deal.globex.create(
            type: "opportunity",
            changes: changes,
            with: [deal.initech.company, deal.umbra.company]
        )
        try await send(deal.globex, deal.umbra)
        let before = try #require(try await deal.umbra.object(known).joint("stage")?.value)
        changes.joint = [FieldValue("title", "Arrives late")]
        let late = try await deal.globex.create(type: "opportunity", changes: changes, with: [deal.initech.company])
        let now = UInt64(Date().timeIntervalSince1970 * 1000)
        let nonce = [UInt8](repeating: 7, count: 16)
        let own = Derivation.objectID(owner: deal.initech.company, nonce: nonce)
        let operations = [
            EntenteCore.Operation(
                object: known,
                timestamp: Timestamp(physical: now, counter: 0, replica: deal.initech.replica),
                kind: .set(FieldKey(.joint, "stage"), .enumeration("committed"), .participants, preds: [])
            ),
            EntenteCore.Operation(
                object: late,
                timestamp: Timestamp(physical: now, counter: 1, replica: deal.initech.replica),
                kind: .addParticipant(deal.umbra.company)
            ),
            // Initech's own new object, created by the same envelope: it goes with it.
            EntenteCore.Operation(
                object: own,
                timestamp: Timestamp(physical: now, counter: 2, replica: deal.initech.replica),
                kind: .create(type: "opportunity", nonce: nonce)
            ),
        ]
        let addressee = Addressee(company: deal.umbra.company, encryptionKey: deal.umbra.card.encryptionKey, sequence: 90)
        let hostile = try Envelope.seal(operations, from: deal.initech.credentials, to: [addressee]).bytes
        // Umbra does not know the second object yet: the write applies, the invitation waits.
        let early = try await deal.umbra.importEnvelopes([hostile])
        #expect(early.applied == 1 && early.waiting == 1)
        #expect(try await deal.umbra.object(known).joint("stage")?.value == .enumeration("committed"))
        #expect(before != .enumeration("committed"))
        #expect(try await deal.umbra.object(own).owner.id == deal.initech.company)
        // The second object arrives (Globex invites Umbra): the envelope is refused whole, the write taken back.
        let feed = await deal.umbra.changes()
        try await deal.globex.invite(late, deal.umbra.company)
        let report = try await deal.umbra.importBundle(try await deal.globex.exportBundle(to: deal.umbra.company).encoded())
        #expect(report.applied > 0)
        #expect(report.notes.contains { $0.contains("its other parts were taken back") }, "\(report.notes)")
        let stage = try await deal.umbra.object(known).joint("stage")
        #expect(stage?.value == before, "\(String(describing: stage))")
        #expect(try await deal.umbra.object(late).joint("title")?.value == .string("Arrives late"))
        #expect(try deal.umbra.reading { tx in try tx.waitingParts() }.isEmpty)
        await #expect(throws: EntenteError.self, "the object the envelope created is gone") {
            try await deal.umbra.object(own)
        }
        #expect(try await !deal.umbra.objects().map(\.id).contains(own))
        // Integrators hear of it: the object's removal, and the write taken back, on the change feed (read up
        // to a local write made afterwards: the feed is in commit order).
        var mark = Changes()
        mark.privateFields = [FieldValue("feed_mark", "after")]
        try await deal.umbra.update(late, changes: mark)
        var heard: [Change] = []
        for await change in feed {
            heard.append(change)
            if case .field(name: "feed_mark", _, _, _) = change.kind { break }
        }
        #expect(heard.contains { $0.object == own && $0.kind == .removed(type: "opportunity") })
        #expect(
            heard.contains {
                $0.object == known
                    && $0.kind == .field(name: "stage", namespace: nil, old: .enumeration("committed"), new: before)
            }
        )
        // The envelope stays logged: offered again, it is held, and changes nothing.
        #expect(try await deal.umbra.importEnvelopes([hostile]).duplicates == 1)
        #expect(try await deal.umbra.object(known).joint("stage")?.value == before)
    }

    /// Should the store change between the check and the merge so that an envelope is refused (here another
    /// object of the same id and another type lands while the check runs), the import stops at that envelope
    /// with those of the earlier transactions kept and says so; importing the bundle again resumes it.
    @Test func aStoreChangedDuringTheCheckStopsTheMergeAndAnotherImportResumes() async throws {
        let (deal, ids, bundle) = try await largeDeal()
        defer { deal.cleanUp() }
        let envelopes = try Bundle(decoding: bundle).envelopes
        let last = try #require(ids.last)
        let store = deal.initech.store
        let globex = deal.globex.company
        let intruder = ObjectState(
            id: last,
            type: "lead",
            owner: globex,
            created: Timestamp(physical: 1, counter: 0, replica: deal.globex.replica),
            createNonce: [],
            membership: [:],
            archived: nil,
            fields: [:],
            sets: [:]
        )
        let planted = Mutex(false)
        do throws(EntenteError) {
            try await deal.initech.importBundle(bundle) { step in
                guard case .checked(let done, let total) = step, done == total else { return }
                // The check is over (its read transaction is still open): another writer lands meanwhile.
                planted.withLock { planted in
                    planted = (try? store.write { tx in try tx.saveObject(intruder, previous: nil) }) != nil
                }
            }
            Issue.record("the merge went through an envelope the store now refuses")
        } catch {
            #expect(error.code == .rejected, "\(error.message)")
            #expect(error.message.contains("already exists with another owner or type"), "\(error.message)")
            #expect(error.message.contains("envelopes were imported (the store changed after the bundle was checked)"))
            #expect(!error.message.contains("the first 0 envelopes"), "the refused envelope is not in the first transaction")
        }
        #expect(planted.withLock { $0 })
        let kept = try await deal.initech.status().envelopes
        #expect(kept > 0 && kept < envelopes.count, "\(kept) of \(envelopes.count) envelopes kept")
        // Importing the bundle again skips what was kept: its check now sees the intruder, and refuses the same
        // envelope before writing anything.
        var failing = 0
        do throws(EntenteError) {
            try await deal.initech.importBundle(bundle)
            Issue.record("the second import went through the intruder")
        } catch {
            #expect(error.message.hasSuffix("nothing was imported"), "\(error.message)")
            failing = Int(error.message.split(separator: " ")[1]) ?? 0
        }
        #expect(failing > kept, "the refused envelope comes after those kept")
        #expect(try await deal.initech.status().envelopes == kept)
    }

    /// A bundle file that changed between its check and its merge is refused before anything is written.
    @Test func aFileChangedAfterItsCheckIsRefused() async throws {
        let (deal, _, bundle) = try await largeDeal(50)
        defer { deal.cleanUp() }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("changed-\(UUID().uuidString).bundle")
        try Data(bundle).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let checked = try await deal.initech.checkImport(.file(path: file.path))
        #expect(checked?.count == 32)
        // The same bundle with one more object: the file now holds other envelopes.
        _ = try await deal.globex.create(type: "opportunity", changes: Changes(), with: [deal.initech.company])
        let other = try await deal.globex.exportBundle(to: deal.initech.company).encoded()
        #expect(other != bundle)
        try Data(other).write(to: file)
        #expect(throws: EntenteError.self) { try BundleSource.file(path: file.path).open(expecting: checked) }
        do {
            _ = try BundleSource.file(path: file.path).open(expecting: checked)
        } catch {
            #expect(error.code == .badInput)
            #expect(error.message.contains("changed after it was checked; nothing was imported"), "\(error.message)")
        }
        #expect(try BundleSource.file(path: file.path).open(expecting: nil).count > 0)
    }
}
