import EntenteCore
import EntenteSync
import EntenteTestSupport
import Foundation
import Synchronization
import Testing

@testable import Entente

/// Everything that crossed a link: every raw chunk, and every batch of envelopes each node received.
final class NetworkCapture: Sendable {
    private let state = Mutex<(raw: [[UInt8]], received: [(recipient: String, envelopes: [[UInt8]])])>(([], []))

    func raw(_ bytes: [UInt8]) { state.withLock { $0.raw.append(bytes) } }
    func received(by recipient: String, _ envelopes: [[UInt8]]) {
        state.withLock { $0.received.append((recipient, envelopes)) }
    }
    var rawBytes: [[UInt8]] { state.withLock { $0.raw } }
    var receivedBatches: [(recipient: String, envelopes: [[UInt8]])] { state.withLock { $0.received } }
}

/// Syncs `client` with `server` over an in-memory link (both directions), capturing every byte.
@discardableResult
func networkSync(
    _ client: Node,
    _ server: Node,
    capture: NetworkCapture? = nil
) async throws -> (client: SyncReport, server: SyncReport) {
    let (clientEnd, serverEnd) = InMemoryConnection.pair(tap: { _, _, bytes in
        capture?.raw(bytes)
        return .deliver(bytes)
    })
    let clientName = client.card.name
    let serverName = server.card.name
    let clientOptions = Node.SyncOptions(received: { _, envelopes in capture?.received(by: clientName, envelopes) })
    let serverOptions = Node.SyncOptions(received: { _, envelopes in capture?.received(by: serverName, envelopes) })
    async let served = server.serveSync(over: serverEnd, options: serverOptions)
    let dialled = try await client.sync(with: server.company, over: clientEnd, options: clientOptions)
    return (dialled, try await served)
}

@Suite struct NetworkNodeTests {
    @Test func threeNodesConvergeThroughARelayAndPrivateValuesNeverLeave() async throws {
        let deal = try await Deal.make()
        defer { deal.cleanUp() }
        let (globex, initech, umbra) = (deal.globex, deal.initech, deal.umbra)
        let capture = NetworkCapture()

        var opening = Changes()
        opening.joint = [FieldValue("title", "Acme data platform"), FieldValue("stage", "qualified")]
        opening.privateFields = [FieldValue("deal_size", "SENTINEL-GLOBEX-DEAL-SIZE")]
        let id = try await globex.create(type: "opportunity", changes: opening, with: [initech.company, umbra.company])

        // Globex and Umbra never connect: Initech is the middle node.
        try await networkSync(initech, globex, capture: capture)
        let relay = try await networkSync(umbra, initech, capture: capture)
        #expect(relay.client.received > 0, "Initech relays Globex's envelopes to Umbra")
        #expect(try await umbra.object(id).joint("title")?.value == .string("Acme data platform"))

        // Concurrent edits on all three nodes.
        var globexEdit = Changes()
        globexEdit.joint = [FieldValue("stage", "business-validation")]
        try await globex.update(id, changes: globexEdit)
        var initechFields = Changes()
        initechFields.shared = [FieldValue("delivery_lead", "Initech PS")]
        initechFields.privateFields = [FieldValue("margin", "SENTINEL-INITECH-MARGIN")]
        try await initech.update(id, changes: initechFields)
        var initechToGlobex = Changes()
        initechToGlobex.shared = [FieldValue("rate_card", "SENTINEL-INITECH-RATES-FOR-GLOBEX")]
        initechToGlobex.sharedWith = [globex.company]
        try await initech.update(id, changes: initechToGlobex)
        var umbraFields = Changes()
        umbraFields.joint = [FieldValue("stage", "technical-validation"), FieldValue("next_steps", "POC in January")]
        umbraFields.shared = [FieldValue("marketplace", "listed")]
        umbraFields.privateFields = [FieldValue("discount", "SENTINEL-UMBRA-DISCOUNT")]
        try await umbra.update(id, changes: umbraFields)
        var umbraToInitech = Changes()
        umbraToInitech.shared = [FieldValue("credits", "SENTINEL-UMBRA-CREDITS-FOR-INITECH")]
        umbraToInitech.sharedWith = [initech.company]
        try await umbra.update(id, changes: umbraToInitech)

        for _ in 0..<2 {
            try await networkSync(globex, initech, capture: capture)
            try await networkSync(umbra, initech, capture: capture)
        }

        let views = try await deal.all.asyncMap { try await $0.object(id) }
        #expect(views[0].joint.map(\.value) == views[1].joint.map(\.value))
        #expect(views[1].joint.map(\.value) == views[2].joint.map(\.value))
        #expect(views[0].joint.map(\.name).sorted() == ["next_steps", "stage", "title"])
        func fieldNames(_ view: ObjectView, of company: String) -> Set<String> {
            Set(view.fields.first { $0.company.name == company }?.fields.map(\.name) ?? [])
        }
        // Umbra's shared field reached Globex through Initech; the restricted ones reached only their audience.
        #expect(fieldNames(views[0], of: "Umbra Cloud") == ["marketplace"])
        #expect(fieldNames(views[0], of: "Initech") == ["delivery_lead", "rate_card"])
        #expect(fieldNames(views[1], of: "Umbra Cloud") == ["credits", "marketplace"])
        #expect(fieldNames(views[2], of: "Initech") == ["delivery_lead"])

        let entitled: [String: Set<String>] = [
            "SENTINEL-GLOBEX-DEAL-SIZE": ["Globex"],
            "SENTINEL-INITECH-MARGIN": ["Initech"],
            "SENTINEL-INITECH-RATES-FOR-GLOBEX": ["Initech", "Globex"],
            "SENTINEL-UMBRA-DISCOUNT": ["Umbra Cloud"],
            "SENTINEL-UMBRA-CREDITS-FOR-INITECH": ["Umbra Cloud", "Initech"],
        ]
        let nodes = Dictionary(uniqueKeysWithValues: deal.all.map { ($0.card.name, $0) })
        var decrypted: [String: String] = [:]
        for (recipient, envelopes) in capture.receivedBatches {
            let node = try #require(nodes[recipient])
            let operations = try await node.inspect(Bundle(envelopes: envelopes).encoded()).flatMap {
                $0.operations ?? []
            }
            decrypted[recipient, default: ""] += operations.joined(separator: "\n") + "\n"
        }
        let wire = capture.rawBytes
        #expect(wire.count > 20)
        for (secret, holders) in entitled {
            for chunk in wire { #expect(!contains(chunk, secret), "\(secret) crossed a link in plaintext") }
            for (recipient, text) in decrypted where !holders.contains(recipient) {
                #expect(!text.contains(secret), "\(secret) was sent to \(recipient) in an envelope it can open")
            }
            for node in deal.all where !holders.contains(node.card.name) {
                #expect(!contains(databaseBytes(node), secret), "\(secret) is in \(node.card.name)'s database")
            }
        }
        // The scans can fail: what a recipient is entitled to does show up, decrypted.
        #expect(decrypted["Globex"]?.contains("SENTINEL-INITECH-RATES-FOR-GLOBEX") == true)
        #expect(decrypted["Initech"]?.contains("SENTINEL-UMBRA-CREDITS-FOR-INITECH") == true)

        // Once converged, a sync moves nothing.
        let idle = try await networkSync(globex, initech)
        #expect(idle.client.sent == 0 && idle.client.received == 0 && idle.server.sent == 0)
    }

    @Test func integratorsSeeRemoteChangesOnTheFeed() async throws {
        let deal = try await Deal.make()
        defer { deal.cleanUp() }
        let feed = await deal.initech.changes()
        var changes = Changes()
        changes.joint = [FieldValue("title", "Feed me")]
        let id = try await deal.globex.create(type: "opportunity", changes: changes, with: [deal.initech.company])
        try await networkSync(deal.globex, deal.initech)
        let globex = deal.globex.company
        let seen = await withTaskGroup(of: Change?.self) { group in
            group.addTask {
                for await change in feed {
                    if case .field(let name, _, _, let new) = change.kind, name == "title", new == .string("Feed me") {
                        return change
                    }
                }
                return nil
            }
            group.addTask {
                try? await Task.sleep(for: .seconds(5))
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
        let change = try #require(seen, "the imported change never reached the feed")
        #expect(change.object == id && change.company == globex && !change.isLocal)
    }

    @Test func aRelayedEnvelopeFromAnUnknownCompanyIsRefusedAloneAndTheRestArrives() async throws {
        let deal = try await Deal.make()
        defer { deal.cleanUp() }
        let (globex, initech) = (deal.globex, deal.initech)
        // Partial pinned only Initech, so it cannot verify what Initech relays from Globex.
        let partial = try Node.create(at: deal.root.appendingPathComponent("partial"), companyName: "Partial")
        try await partial.addPartner(initech.card)
        try await initech.addPartner(partial.card)
        try await globex.addPartner(partial.card)

        var fromGlobex = Changes()
        fromGlobex.joint = [FieldValue("title", "From Globex")]
        let relayed = try await globex.create(
            type: "opportunity",
            changes: fromGlobex,
            with: [initech.company, partial.company]
        )
        try await networkSync(initech, globex)
        var fromInitech = Changes()
        fromInitech.joint = [FieldValue("title", "From Initech")]
        let own = try await initech.create(type: "opportunity", changes: fromInitech, with: [partial.company])

        let report = try await networkSync(partial, initech).client
        #expect(report.received >= 2)
        #expect(report.refused >= 1)
        #expect(report.refusedReasons.contains { $0.contains("not a pinned partner") }, "\(report.refusedReasons)")
        #expect(report.applied >= 1)
        #expect(try await partial.object(own).joint("title")?.value == .string("From Initech"))
        await #expect(throws: EntenteError.self) { try await partial.object(relayed) }

        // Once Partial pins Globex, the next sync brings the relayed envelope: nothing was lost.
        try await partial.addPartner(globex.card)
        let again = try await networkSync(partial, initech).client
        #expect(again.refused == 0 && again.applied >= 1)
        #expect(try await partial.object(relayed).joint("title")?.value == .string("From Globex"))
    }
}

/// A count shared between tasks.
final class Counter: Sendable {
    private let count = Mutex(0)
    func increment() { count.withLock { $0 += 1 } }
    var value: Int { count.withLock { $0 } }
}

/// The sender reads what it sends page by page while the node keeps writing.
@Suite struct PagedSyncNodeTests {
    @Test func aNodeThatWritesDuringASyncStillConverges() async throws {
        let deal = try await Deal.make()
        defer { deal.cleanUp() }
        let (globex, initech) = (deal.globex, deal.initech)
        var ids: [ObjectID] = []
        for index in 0..<150 {
            var changes = Changes()
            changes.joint = [FieldValue("title", "Deal \(index)")]
            ids.append(try await globex.create(type: "opportunity", changes: changes, with: [initech.company]))
        }
        var limits = SyncLimits()
        limits.maxEnvelopesPerBatch = 2
        // Globex starts writing once Initech acknowledged its first batch, so the writes land mid-sync.
        let (started, signal) = AsyncStream.makeStream(of: Void.self)
        let serverOptions = Node.SyncOptions(
            limits: limits,
            progress: { if $0.direction == .sending { signal.yield() } }
        )
        let writes = Counter()
        let created = ids
        let writer = Task {
            var ids = created
            for await _ in started { break }
            for index in 0..<20 {
                var changes = Changes()
                changes.joint = [FieldValue("title", "Deal \(index), revised")]
                try await globex.update(ids[index], changes: changes)
                var fresh = Changes()
                fresh.joint = [FieldValue("title", "Late deal \(index)")]
                ids.append(try await globex.create(type: "opportunity", changes: fresh, with: [initech.company]))
                writes.increment()
            }
            return ids
        }
        let (clientEnd, serverEnd) = InMemoryConnection.pair()
        async let served = globex.serveSync(over: serverEnd, options: serverOptions)
        let first = try await initech.sync(
            with: globex.company,
            over: clientEnd,
            options: Node.SyncOptions(limits: limits)
        )
        let sent = try await served
        let writtenDuringSync = writes.value
        signal.finish()
        let all = try await writer.value
        #expect(writtenDuringSync > 0, "the writes did not overlap the sync")
        // The first sync sent exactly the 150 envelopes it counted before the writes began, without a protocol
        // error; what was written meanwhile waits for the next sync.
        #expect(sent.sent == 150 && first.received == 150 && first.applied == 150)

        // The next sync brings the rest, and both nodes agree on every deal.
        try await networkSync(initech, globex)
        #expect(try await globex.envelopes(for: initech.company, since: try await initech.summary()).isEmpty)
        for id in all {
            #expect(try await initech.object(id).joint == (try await globex.object(id).joint))
        }
        #expect(try await initech.object(all[3]).joint("title")?.value == .string("Deal 3, revised"))
    }
}
