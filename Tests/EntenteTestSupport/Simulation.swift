import EntenteCore

/// A replica of the pure core: merges batches part by part, parks parts that must wait, retries them after
/// every delivery, rebuilds objects when a removal arrives, and records refusals. Used by property tests and
/// the deterministic simulation; it follows the same rules as `Node` does with its store.
public struct SimulatedReplica: Sendable {
    /// Object states.
    public private(set) var states: [ObjectID: ObjectState] = [:]
    /// Every part received per object (applied or waiting), in arrival order.
    public private(set) var log: [ObjectID: [Batch]] = [:]
    /// Parts waiting for a dependency, per object.
    public private(set) var waiting: [ObjectID: [Batch]] = [:]
    /// Batches refused for good (on arrival, or once one of their waiting parts turned out refused).
    public private(set) var rejected: [Batch] = []
    private var seen: Set<Batch> = []
    /// The batch each logged part came from.
    private var origin: [Batch: Batch] = [:]

    /// An empty replica.
    public init() {}

    /// True if the replica has seen this batch (delivered or issued).
    public func hasSeen(_ batch: Batch) -> Bool { seen.contains(batch) }

    /// Delivers a batch (duplicates are ignored), then retries waiting parts until none progresses.
    /// Returns the merge outcome of the first delivery.
    @discardableResult
    public mutating func deliver(_ batch: Batch) -> BatchOutcome? {
        guard seen.insert(batch).inserted else { return nil }
        let outcome = Merge.apply(batch, to: &states)
        switch outcome {
        case .reject:
            rejected.append(batch)
        case .merged(let result):
            for object in batch.objects {
                let part = batch.part(object)
                origin[part] = batch
                log[object, default: []].append(part)
                if result.waiting[object] != nil { waiting[object, default: []].append(part) }
            }
            for object in result.rebuild { rebuild(object) }
            retry()
        }
        return outcome
    }

    private mutating func rebuild(_ object: ObjectID) {
        let parts = log[object] ?? []
        let (state, reasons) = Merge.rebuild(object, from: parts)
        states[object] = state.exists ? state : nil
        waiting[object] = zip(parts, reasons).compactMap { $1 == nil ? nil : $0 }
    }

    private mutating func retry() {
        var progress = true
        while progress {
            progress = false
            for (object, parts) in waiting {
                for part in parts where waiting[object]?.contains(part) == true {
                    switch Merge.apply(part, to: &states) {
                    case .reject:
                        // Refused now that its object's create is known: its whole batch is refused.
                        if let batch = origin[part] { refuseLate(batch) }
                        progress = true
                    case .merged(let result) where result.waiting[object] == nil:
                        waiting[object]?.removeAll { $0 == part }
                        for rebuilt in result.rebuild { rebuild(rebuilt) }
                        progress = true
                    case .merged: break
                    }
                }
            }
        }
    }

    /// Refuses a logged batch whole: its parts leave the log (applied or waiting), and the objects are rebuilt
    /// without them, as on a replica that refused the batch on arrival.
    private mutating func refuseLate(_ batch: Batch) {
        rejected.append(batch)
        for object in batch.objects {
            let part = batch.part(object)
            origin[part] = nil
            log[object]?.removeAll { $0 == part }
            waiting[object]?.removeAll { $0 == part }
            rebuild(object)
        }
    }

    /// The waiting parts, as a set, for comparisons.
    public var waitingSet: Set<Batch> { Set(waiting.values.flatMap { $0 }) }
}

/// Random but honest-looking histories of one object worked by several companies, plus a few hostile batches.
public enum RandomHistory {
    /// The companies of generated histories; the first owns the object.
    public static let companies: [CompanyID] = (1...4).map { CompanyID(raw: ID128(high: 0xC0, low: UInt64($0))) }
    /// One replica per company.
    public static let replicas: [ReplicaID] = (1...4).map { ReplicaID(raw: ID128(high: 0xA0, low: UInt64($0))) }
    /// Field names used.
    public static let names = ["stage", "title", "amount", "notes"]

    /// Generates batches for `objects` objects owned by company 0, with companies 1 and 2 invited at random
    /// points and company 3 never invited (its writes must never apply). Also includes refused writes to a
    /// foreign namespace, and batches that mix a valid write with a refused invitation to another object.
    public static func batches<R: RandomNumberGenerator>(
        objects: Int = 2,
        steps: Int = 40,
        using rng: inout R
    ) -> [Batch] {
        var batches: [Batch] = []
        var time: UInt64 = 1_000
        var counter: UInt32 = 0
        func stamp(_ company: Int, _ rng: inout R) -> Timestamp {
            time += UInt64.random(in: 0...2, using: &rng)
            counter &+= 1  // one causal counter: a company's write is always after what it has seen
            return Timestamp(physical: time, counter: counter, replica: replicas[company])
        }
        for index in 0..<objects {
            let id = ObjectID(raw: ID128(high: 0x0B, low: UInt64(index)))
            var joined: Set<Int> = [0]
            batches.append(
                Batch(
                    author: companies[0],
                    operations: [
                        Operation(
                            object: id,
                            timestamp: stamp(0, &rng),
                            kind: .create(type: "opportunity", nonce: [UInt8](repeating: UInt8(index), count: 16))
                        )
                    ]
                )
            )
            for _ in 0..<steps {
                let actor = Int.random(in: 0..<companies.count, using: &rng)
                let roll = Int.random(in: 0..<10, using: &rng)
                if actor == 0 && roll < 2 {
                    let newcomer = Int.random(in: 1...2, using: &rng)
                    joined.insert(newcomer)
                    batches.append(
                        Batch(
                            author: companies[0],
                            operations: [
                                Operation(
                                    object: id,
                                    timestamp: stamp(0, &rng),
                                    kind: .addParticipant(companies[newcomer])
                                )
                            ]
                        )
                    )
                    continue
                }
                if actor != 3 && !joined.contains(actor) { continue }
                var operations: [Operation] = []
                for _ in 0..<Int.random(in: 1...3, using: &rng) {
                    let name = names.randomElement(using: &rng) ?? "stage"
                    let value: Value =
                        switch Int.random(in: 0..<4, using: &rng) {
                        case 0: .string("v\(Int.random(in: 0..<5, using: &rng))")
                        case 1: .integer(Int64.random(in: -3...3, using: &rng))
                        case 2: .boolean(Bool.random(using: &rng))
                        default: .null
                        }
                    var namespace = Namespace.company(companies[actor])
                    var visibility: Visibility =
                        [.private, .participants, .companies([companies[1]])].randomElement(using: &rng) ?? .private
                    if roll >= 6 {
                        namespace = .joint
                        visibility = .participants
                    }
                    if roll == 5 { namespace = .company(companies[(actor + 1) % companies.count]) }  // hostile: foreign namespace
                    operations.append(
                        Operation(
                            object: id,
                            timestamp: stamp(actor, &rng),
                            kind: .set(FieldKey(namespace, name), value, visibility, preds: [])
                        )
                    )
                }
                batches.append(Batch(author: companies[actor], operations: operations))
            }
        }
        // Hostile batches over two objects: a valid joint write to one and an invitation to the other by a
        // partner that does not own it (refused whenever that object's create is known: on arrival, or later).
        if objects >= 2 {
            for index in 0..<Int.random(in: 1...2, using: &rng) {
                let author = 1 + index % 2
                let first = ObjectID(raw: ID128(high: 0x0B, low: 0))
                let second = ObjectID(raw: ID128(high: 0x0B, low: 1))
                let (valid, refused) = Bool.random(using: &rng) ? (first, second) : (second, first)
                batches.append(
                    Batch(
                        author: companies[author],
                        operations: [
                            Operation(
                                object: valid,
                                timestamp: stamp(author, &rng),
                                kind: .set(FieldKey(.joint, "stage"), .string("hostile"), .participants, preds: [])
                            ),
                            Operation(object: refused, timestamp: stamp(author, &rng), kind: .addParticipant(companies[3])),
                        ]
                    )
                )
            }
        }
        return batches
    }
}
