import EntenteCore
import EntenteTestSupport
import Testing

/// The CRDT laws over random histories: delivery order, grouping and duplication never change the result.
@Suite struct MergePropertyTests {
    static let seeds: [UInt64] = Array(1...60)

    func deliver(_ batches: [Batch], to replica: inout SimulatedReplica) {
        for batch in batches { replica.deliver(batch) }
    }

    @Test(arguments: seeds)
    func commutative(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        let history = RandomHistory.batches(using: &rng)
        var reference = SimulatedReplica()
        deliver(history, to: &reference)
        #expect(
            reference.waitingSet.allSatisfy { $0.author == RandomHistory.companies[3] },
            "only the outsider's writes may wait forever"
        )
        for _ in 0..<5 {
            var other = SimulatedReplica()
            deliver(history.shuffled(using: &rng), to: &other)
            #expect(other.states == reference.states, "seed \(seed): a different delivery order gave a different state")
            #expect(Set(other.rejected) == Set(reference.rejected), "seed \(seed): refusals depend on delivery order")
        }
    }

    /// `Merge.check` tells from the creates alone exactly what `Merge.apply` refuses, and which creates it makes,
    /// at every point of a random history (hostile batches included).
    @Test(arguments: seeds)
    func checkAgreesWithApply(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        let history = RandomHistory.batches(using: &rng).shuffled(using: &rng)
        var replica = SimulatedReplica()
        var refusals = 0
        var refusedOnArrival = 0
        for batch in history {
            let states = replica.states
            let checked = Merge.check(batch, parts: batch.parts) { states[$0]?.creation }
            var applied = states
            switch (checked, Merge.apply(batch, to: &applied)) {
            case (.failure(let predicted), .reject(let error)):
                #expect(predicted == error, "seed \(seed): another refusal predicted")
                refusals += 1
            case (.success(let made), .merged):
                let created = Set(applied.compactMap { states[$0.key]?.creation == nil && $0.value.exists ? $0.key : nil })
                #expect(Set(made.keys) == created, "seed \(seed): other creates predicted")
                for (object, creation) in made { #expect(applied[object]?.creation == creation) }
            case (let checked, let outcome):
                Issue.record("seed \(seed): check said \(checked), apply said \(outcome)")
            }
            if case .reject = replica.deliver(batch) { refusedOnArrival += 1 }
        }
        #expect(refusals == refusedOnArrival, "seed \(seed): the replica refused other batches")
    }

    /// A batch from a partner with a valid write to one object and a refused invitation to another is refused
    /// whole by a replica that knew the second object's create when it arrived; one that did not applies the
    /// valid write, and refuses the batch whole once the create arrives, rebuilding the first object without it
    /// (`Specs/crdt.md`, "Refusals first").
    @Test func aBatchRefusedLateIsRefusedWhole() {
        let (owner, partner, outsider) = (RandomHistory.companies[0], RandomHistory.companies[1], RandomHistory.companies[3])
        let (first, second) = (ObjectID(raw: ID128(high: 0x0C, low: 1)), ObjectID(raw: ID128(high: 0x0C, low: 2)))
        func stamp(_ time: UInt64, _ company: Int) -> Timestamp {
            Timestamp(physical: time, counter: 0, replica: RandomHistory.replicas[company])
        }
        func create(_ object: ObjectID, _ time: UInt64) -> Batch {
            Batch(author: owner, operations: [
                Operation(object: object, timestamp: stamp(time, 0), kind: .create(type: "deal", nonce: [UInt8(time)])),
                Operation(object: object, timestamp: stamp(time + 1, 0), kind: .addParticipant(partner)),
            ])
        }
        let hostile = Batch(author: partner, operations: [
            Operation(
                object: first,
                timestamp: stamp(20, 1),
                kind: .set(FieldKey(.joint, "stage"), .string("hostile"), .participants, preds: [])
            ),
            Operation(object: second, timestamp: stamp(21, 1), kind: .addParticipant(outsider)),
        ])
        var early = SimulatedReplica()
        var late = SimulatedReplica()
        for batch in [create(first, 10), create(second, 12), hostile] { early.deliver(batch) }
        for batch in [create(first, 10), hostile, create(second, 12)] { late.deliver(batch) }
        #expect(early.rejected == [hostile], "the replica that knew both creates refuses the batch on arrival")
        #expect(late.rejected == [hostile], "the other refuses it once the second create arrives")
        #expect(early.states == late.states)
        #expect(late.states[first]?.fields.isEmpty == true, "the valid write went with its batch")
        #expect(late.waitingSet.isEmpty)
    }

    @Test(arguments: seeds)
    func associative(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        let history = RandomHistory.batches(using: &rng).shuffled(using: &rng)
        let cut1 = Int.random(in: 0...history.count, using: &rng)
        let cut2 = Int.random(in: cut1...history.count, using: &rng)
        let (a, b, c) = (Array(history[..<cut1]), Array(history[cut1..<cut2]), Array(history[cut2...]))
        // (a ∪ b) ∪ c, delivered as two sessions, against a ∪ (b ∪ c) where b ∪ c was first merged on another replica
        var left = SimulatedReplica()
        deliver(a + b, to: &left)
        deliver(c, to: &left)
        var right = SimulatedReplica()
        deliver(a, to: &right)
        var middle = SimulatedReplica()
        deliver(b + c, to: &middle)
        deliver((b + c).shuffled(using: &rng), to: &right)
        #expect(left.states == right.states, "seed \(seed): grouping changed the result")
    }

    @Test(arguments: seeds)
    func idempotent(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        let history = RandomHistory.batches(using: &rng)
        var once = SimulatedReplica()
        deliver(history, to: &once)
        var twice = SimulatedReplica()
        var doubled = history + history.shuffled(using: &rng)
        doubled.shuffle(using: &rng)
        deliver(doubled, to: &twice)
        #expect(once.states == twice.states, "seed \(seed): duplicated delivery changed the result")
        // Re-applying every batch directly to the merged state changes nothing either.
        var states = once.states
        for batch in history { _ = Merge.apply(batch, to: &states) }
        #expect(states == once.states, "seed \(seed): re-applying applied batches changed the state")
    }

    @Test(arguments: seeds)
    func registersHoldTheLatestAuthorisedWrite(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        let history = RandomHistory.batches(using: &rng)
        var replica = SimulatedReplica()
        deliver(history.shuffled(using: &rng), to: &replica)
        let applied = Set(history).subtracting(replica.waitingSet).subtracting(replica.rejected)
        for (id, state) in replica.states {
            for (key, field) in state.fields {
                let register = field.winner
                let writes = applied.flatMap(\.operations).filter { operation in
                    guard operation.object == id, case .set(let written, _, _, _) = operation.kind else { return false }
                    return written == key
                }
                let latest = writes.max { $0.timestamp < $1.timestamp }
                #expect(latest?.timestamp == register.timestamp, "seed \(seed): \(key) does not hold the latest write")
            }
        }
        for batch in replica.rejected {
            #expect(
                batch.operations.contains { operation in
                    switch operation.kind {
                    case .set(let key, _, _, _): key.namespace != .joint && key.namespace != .company(batch.author)
                    case .addParticipant: batch.author != RandomHistory.companies[0]
                    default: false
                    }
                },
                "seed \(seed): a batch was rejected without a foreign-namespace write or a non-owner's invitation"
            )
        }
    }

    @Test func equalTimestampsBreakTiesByValueDeterministically() {
        let stamp = Timestamp(physical: 5, counter: 0, replica: RandomHistory.replicas[0])
        let a = Register(
            value: .string("a"),
            timestamp: stamp,
            visibility: .participants,
            writer: RandomHistory.companies[0]
        )
        let b = Register(
            value: .string("b"),
            timestamp: stamp,
            visibility: .participants,
            writer: RandomHistory.companies[0]
        )
        #expect(b.wins(over: a) && !a.wins(over: b))
        #expect(!a.wins(over: a))
    }
}
