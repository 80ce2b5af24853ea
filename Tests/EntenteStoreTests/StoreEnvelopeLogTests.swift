import EntenteCore
import EntenteCrypto
import EntenteStore
import EntenteTestSupport
import EntenteWire
import Testing

/// Companies `a` (the sender), `b` and `c` (recipients), two replicas of `a`.
private struct Fixture {
    var rng: SplitMix64
    let a: TestCompany
    let b: TestCompany
    let c: TestCompany
    let r1: ReplicaCredentials
    let r2: ReplicaCredentials

    init(seed: UInt64 = 11) throws {
        rng = SplitMix64(seed: seed)
        a = try TestCompany(&rng)
        b = try TestCompany(&rng)
        c = try TestCompany(&rng)
        r1 = try a.replica(&rng)
        r2 = try a.replica(&rng)
    }

    /// Logged out of order: r1#1, r2#1, r1#3, r1#2, r1#5 for b; two of them also go to c.
    func outOfOrderLog() throws -> [Envelope] {
        [
            try envelope(from: r1, to: [(b, 1)], payload: 1),
            try envelope(from: r2, to: [(b, 1), (c, 1)], payload: 2),
            try envelope(from: r1, to: [(b, 3)], payload: 3),
            try envelope(from: r1, to: [(b, 2), (c, 1)], payload: 4),
            try envelope(from: r1, to: [(b, 5)], payload: 5),
        ]
    }
}

@Suite("Store: envelope log and counters")
struct StoreEnvelopeLogTests {
    @Test("hasEnvelope reports logged envelopes; logging the same bytes again is refused and changes nothing")
    func hasEnvelope() throws {
        let fixture = try Fixture()
        let first = try envelope(from: fixture.r1, to: [(fixture.b, 1)], payload: 1)
        let second = try envelope(from: fixture.r1, to: [(fixture.b, 2)], payload: 2)
        try withStore { store, _ in
            #expect(try store.read { tx in try tx.hasEnvelope(first.hash) } == false)
            _ = try store.write { tx in try tx.logEnvelope(first) }
            #expect(try store.read { tx in try tx.hasEnvelope(first.hash) } == true)
            #expect(try store.read { tx in try tx.hasEnvelope(second.hash) } == false)
            #expect(try store.read { tx in try tx.envelopeCount() } == 1)

            // Callers check hasEnvelope first; logging twice anyway is an error, not a second copy.
            #expect(throws: StoreError.self) { try store.write { tx in try tx.logEnvelope(first) } }
            #expect(try store.read { tx in try tx.envelopeCount() } == 1)
            #expect(try store.read { tx in try tx.envelopes(for: fixture.b.id, excluding: [:]) } == [first.bytes])
        }
    }

    @Test("a different envelope reusing a (replica, recipient, sequence) is refused as equivocation")
    func equivocation() throws {
        let fixture = try Fixture()
        let original = try envelope(from: fixture.r1, to: [(fixture.b, 1), (fixture.c, 1)], payload: 1)
        // Same replica, new sequence for b, but sequence 1 for c again: the whole envelope is refused.
        let conflicting = try envelope(from: fixture.r1, to: [(fixture.b, 2), (fixture.c, 1)], payload: 2)
        // The same numbers from another replica of the same company are fine.
        let otherReplica = try envelope(from: fixture.r2, to: [(fixture.b, 1), (fixture.c, 1)], payload: 3)
        try withStore { store, _ in
            _ = try store.write { tx in try tx.logEnvelope(original) }
            let error = #expect(throws: StoreError.self) {
                try store.write { tx in try tx.logEnvelope(conflicting) }
            }
            #expect(error?.code == .equivocation)
            #expect(error?.message.contains("numbered 1") == true)
            #expect(try store.read { tx in try tx.hasEnvelope(conflicting.hash) } == false)
            #expect(try store.read { tx in try tx.envelopeCount() } == 1)
            // Nothing of the refused envelope was recorded: b still holds only sequence 1 from r1.
            #expect(try store.read { tx in try tx.heldSequences(for: fixture.b.id) } == [fixture.r1.replica: 1])

            _ = try store.write { tx in try tx.logEnvelope(otherReplica) }
            #expect(try store.read { tx in try tx.envelopeCount() } == 2)
        }
    }

    @Test("a throwing write rolls back everything it did")
    func rollback() throws {
        var fixture = try Fixture()
        let logged = try envelope(from: fixture.r1, to: [(fixture.b, 1)], payload: 1)
        let owner = fixture.a.id
        let stamp = Timestamp(physical: 1, counter: 0, replica: fixture.r1.replica)
        let state = ObjectState(
            id: ObjectID(raw: fixture.rng.id128()),
            type: "opportunity",
            owner: owner,
            created: stamp,
            createNonce: fixture.rng.bytes(16),
            membership: [fixture.b.id: [MembershipEvent(timestamp: stamp, isMember: true)]],
            archived: nil,
            fields: [
                FieldKey(.joint, "title"): FieldState(
                    Register(value: .string("t"), timestamp: stamp, visibility: .participants, writer: owner)
                )
            ],
            sets: [:]
        )
        try withStore { store, _ in
            try store.write { tx in try tx.setMeta("before", [1]) }
            #expect(throws: TestFailure.self) {
                try store.write { tx in
                    try tx.saveObject(state, previous: nil)
                    let rowid = try tx.logEnvelope(logged)
                    try tx.setPart(rowid, state.id, waiting: "not yet")
                    #expect(try tx.nextSequence(for: fixture.b.id) == 1)
                    try tx.setMeta("before", [2])
                    try tx.saveCompany(fixture.b.card(name: "B"), isSelf: false)
                    // Inside the transaction the changes are visible...
                    #expect(try tx.loadObject(state.id) == state)
                    #expect(try tx.waitingParts().map(\.object) == [state.id])
                    throw TestFailure()
                }
            }
            // ...and after the throw none of them are.
            #expect(try store.read { tx in try tx.loadObject(state.id) } == nil)
            #expect(try store.read { tx in try tx.hasEnvelope(logged.hash) } == false)
            #expect(try store.read { tx in try tx.envelopeCount() } == 0)
            #expect(try store.read { tx in try tx.waitingParts() }.isEmpty)
            #expect(try store.read { tx in try tx.parts(of: state.id) }.isEmpty)
            #expect(try store.read { tx in try tx.heldSequences(for: fixture.b.id) }.isEmpty)
            #expect(try store.read { tx in try tx.meta("before") } == [1])
            #expect(try store.read { tx in try tx.companies() }.isEmpty)
            #expect(try store.write { tx in try tx.nextSequence(for: fixture.b.id) } == 1)
        }
    }

    @Test("heldSequences is the contiguous prefix per replica; envelopes(for:excluding:) skips held ones in log order")
    func heldAndMissing() throws {
        let fixture = try Fixture()
        let (b, c, r1, r2) = (fixture.b, fixture.c, fixture.r1, fixture.r2)
        let log = try fixture.outOfOrderLog()
        let (r2s1, r1s3, r1s2, r1s5) = (log[1], log[2], log[3], log[4])
        try withStore { store, _ in
            try store.write { tx in for envelope in log { try tx.logEnvelope(envelope) } }
            #expect(try store.read { tx in try tx.heldSequences(for: b.id) } == [r1.replica: 3, r2.replica: 1])
            #expect(try store.read { tx in try tx.heldSequences(for: c.id) } == [r1.replica: 1, r2.replica: 1])
            #expect(try store.read { tx in try tx.heldSequences(for: fixture.a.id) }.isEmpty)

            #expect(try store.read { tx in try tx.envelopes(for: b.id, excluding: [:]) } == log.map(\.bytes))
            let missing = try store.read { tx in try tx.envelopes(for: b.id, excluding: [r1.replica: 2]) }
            #expect(missing == [r2s1.bytes, r1s3.bytes, r1s5.bytes])
            let afterAll = try store.read { tx in
                try tx.envelopes(for: b.id, excluding: [r1.replica: 5, r2.replica: 1])
            }
            #expect(afterAll.isEmpty)
            #expect(try store.read { tx in try tx.envelopes(for: c.id, excluding: [r2.replica: 1]) } == [r1s2.bytes])
        }
    }

    @Test("a selection counts what a recipient lacks up to a fixed log position; pages return it in log order")
    func selectionAndPages() throws {
        let fixture = try Fixture()
        let (b, c, r1, r2) = (fixture.b, fixture.c, fixture.r1, fixture.r2)
        let log = try fixture.outOfOrderLog()
        let (r2s1, r1s3, r1s5) = (log[1], log[2], log[4])
        let r1s4 = try envelope(from: r1, to: [(b, 4)], payload: 6)
        try withStore { store, _ in
            try store.write { tx in for envelope in log { try tx.logEnvelope(envelope) } }
            let held: [ReplicaID: UInt64] = [r1.replica: 2]
            let selection = try store.read { tx in try tx.selectEnvelopes(for: b.id, excluding: held) }
            let lacking = [r2s1, r1s3, r1s5].map(\.bytes)
            #expect(selection == EnvelopeSelection(count: 3, bytes: lacking.reduce(0) { $0 + $1.count }, through: 5))
            #expect(try store.read { tx in try tx.selectEnvelopes(for: c.id, excluding: [r2.replica: 1]) }.count == 1)

            // An envelope logged after the selection is not part of it.
            _ = try store.write { tx in try tx.logEnvelope(r1s4) }
            func page(after: Int64, count: Int = 1, bytes: Int = .max) throws -> EnvelopePage {
                try store.read { tx in
                    try tx.envelopes(
                        for: b.id,
                        excluding: held,
                        after: after,
                        through: selection.through,
                        maxCount: count,
                        maxBytes: bytes
                    )
                }
            }
            // One at a time: the held r1#2 (position 4) is skipped.
            #expect(try page(after: 0) == EnvelopePage(envelopes: [lacking[0]], last: 2))
            #expect(try page(after: 2) == EnvelopePage(envelopes: [lacking[1]], last: 3))
            #expect(try page(after: 3) == EnvelopePage(envelopes: [lacking[2]], last: 5))
            #expect(try page(after: 5) == EnvelopePage(envelopes: [], last: 5))
            // Bounded by bytes, but never empty while something is left.
            let two = lacking[0].count + lacking[1].count
            #expect(try page(after: 0, count: 10, bytes: two).envelopes == Array(lacking.prefix(2)))
            #expect(try page(after: 0, count: 10, bytes: two - 1).envelopes == [lacking[0]])
            #expect(try page(after: 0, count: 10, bytes: 1).envelopes == [lacking[0]])
            // A new selection includes the later envelope.
            let next = try store.read { tx in try tx.selectEnvelopes(for: b.id, excluding: held) }
            #expect(next.count == 4 && next.through == 6)
        }
    }

    @Test("paging through hundreds of envelopes returns exactly the unpaged list")
    func pagingMatchesTheWholeList() throws {
        let fixture = try Fixture()
        let log = try (1...300).map {
            try envelope(from: fixture.r1, to: [(fixture.b, UInt64($0))], payload: UInt64($0))
        }
        try withStore { store, _ in
            try store.write { tx in for envelope in log { try tx.logEnvelope(envelope) } }
            let held: [ReplicaID: UInt64] = [fixture.r1.replica: 37]
            let whole = try store.read { tx in try tx.envelopes(for: fixture.b.id, excluding: held) }
            #expect(whole == log.dropFirst(37).map(\.bytes))
            let selection = try store.read { tx in try tx.selectEnvelopes(for: fixture.b.id, excluding: held) }
            #expect(selection.count == 263)
            var paged: [[UInt8]] = []
            var after: Int64 = 0
            while paged.count < selection.count {
                let page = try store.read { tx in
                    try tx.envelopes(
                        for: fixture.b.id,
                        excluding: held,
                        after: after,
                        through: selection.through,
                        maxCount: 64,
                        maxBytes: 8 << 20
                    )
                }
                #expect(!page.envelopes.isEmpty && page.envelopes.count <= 64 && page.last > after)
                if page.envelopes.isEmpty { break }
                paged += page.envelopes
                after = page.last
            }
            #expect(paged == whole)
        }
    }

    @Test("a gap that is filled later extends the held prefix")
    func gapFilled() throws {
        let fixture = try Fixture()
        let envelopes = try (1...4).map {
            try envelope(from: fixture.r1, to: [(fixture.b, UInt64($0))], payload: UInt64($0))
        }
        try withStore { store, _ in
            for index in [0, 2, 3] { _ = try store.write { tx in try tx.logEnvelope(envelopes[index]) } }
            #expect(try store.read { tx in try tx.heldSequences(for: fixture.b.id) } == [fixture.r1.replica: 1])
            _ = try store.write { tx in try tx.logEnvelope(envelopes[1]) }
            #expect(try store.read { tx in try tx.heldSequences(for: fixture.b.id) } == [fixture.r1.replica: 4])
        }
    }

    @Test("waiting parts are listed with their reason until their status changes")
    func waiting() throws {
        let fixture = try Fixture()
        let applied = try envelope(from: fixture.r1, to: [(fixture.b, 1)], payload: 1)
        let waiting = try envelope(from: fixture.r1, to: [(fixture.b, 2)], payload: 2)
        let state = RichObject(seed: 9).state
        let object = state.id
        try withStore { store, _ in
            let first = try store.write { tx in try tx.logEnvelope(applied) }
            let rowid = try store.write { tx in try tx.logEnvelope(waiting) }
            // The later part waits for the object; the earlier one applies once the object is saved.
            try store.write { tx in try tx.setPart(rowid, object, waiting: "object not received") }
            try store.write { tx in
                try tx.saveObject(state, previous: nil)
                try tx.setPart(first, object, waiting: nil)
            }
            let listed = try store.read { tx in try tx.waitingParts() }
            #expect(listed.map(\.envelope) == [rowid])
            #expect(listed.first?.object == object)
            #expect(listed.first?.bytes == waiting.bytes)
            #expect(listed.first?.waiting == "object not received")
            try store.write { tx in try tx.setPart(rowid, object, waiting: nil) }
            #expect(try store.read { tx in try tx.waitingParts() }.isEmpty)
            #expect(try store.read { tx in try tx.parts(of: object) }.map(\.envelope) == [first, rowid])
        }
    }

    @Test("nextSequence counts per recipient, independently, and persists across reopen")
    func nextSequence() throws {
        let fixture = try Fixture()
        try withTemporaryDirectory { directory in
            let path = directory.path("counters.sqlite")
            do {
                let store = try Store.open(path: path)
                #expect(try store.write { tx in try tx.nextSequence(for: fixture.b.id) } == 1)
                #expect(try store.write { tx in try tx.nextSequence(for: fixture.b.id) } == 2)
                #expect(try store.write { tx in try tx.nextSequence(for: fixture.c.id) } == 1)
                let sameTransaction = try store.write { tx in
                    [try tx.nextSequence(for: fixture.b.id), try tx.nextSequence(for: fixture.b.id)]
                }
                #expect(sameTransaction == [3, 4])
            }
            let reopened = try Store.open(path: path)
            #expect(try reopened.write { tx in try tx.nextSequence(for: fixture.b.id) } == 5)
            #expect(try reopened.write { tx in try tx.nextSequence(for: fixture.c.id) } == 2)
            #expect(try reopened.write { tx in try tx.nextSequence(for: fixture.a.id) } == 1)
        }
    }

    /// Sequence numbers are stored as SQLite integers (signed 64-bit); the wire layer refuses anything larger,
    /// so a hostile replica cannot make the store trap (see EnvelopeLayoutTests for the parser side).
    @Test("a sequence number above Int64.max never reaches the store")
    func hugeSequence() throws {
        let fixture = try Fixture()
        #expect(throws: WireError.self) {
            _ = try envelope(from: fixture.r1, to: [(fixture.b, UInt64(Int64.max) + 1)], payload: 1)
        }
        let largest = try envelope(from: fixture.r1, to: [(fixture.b, UInt64(Int64.max))], payload: 1)
        try withStore { store, _ in
            _ = try store.write { tx in try tx.logEnvelope(largest) }
            #expect(try store.read { tx in try tx.heldSequences(for: fixture.b.id) }.isEmpty, "1...n is not held")
        }
    }
}
