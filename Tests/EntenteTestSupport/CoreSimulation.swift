import EntenteCore

/// A deterministic simulation of the pure core (FoundationDB-style): a seeded scheduler drives several
/// companies, each with one or more replicas, through random operations generated from each replica's own
/// view (so predecessors, observed adds and clocks are realistic), over a hostile network that drops,
/// duplicates, reorders, delays and partitions deliveries. At every quiescent point it checks that every
/// replica converged and that refused batches changed nothing.
public struct CoreSimulation {
    /// One replica: its company, its clock and its merged view.
    public struct Node {
        /// Index of the company in `companies`.
        public let company: Int
        /// The replica's id.
        public let replica: ReplicaID
        /// The replica's hybrid clock.
        public var clock: HybridClock
        /// The merged view.
        public var view = SimulatedReplica()
    }

    /// Counters for the report.
    public struct Stats: Sendable {
        /// Operations generated.
        public var operations = 0
        /// Batches delivered (including duplicates).
        public var deliveries = 0
        /// Deliveries dropped (re-sent later).
        public var drops = 0
        /// Quiescent checks passed.
        public var checks = 0
        /// Hostile batches generated.
        public var hostile = 0
        /// Conflicted fields seen at quiescent points.
        public var conflicts = 0
        /// Parts waiting at quiescent points (writes by non-participants or removed companies).
        public var waiting = 0
        /// Removals issued.
        public var removals = 0
        /// Present set elements at quiescent points.
        public var elements = 0
        /// Zero counters.
        public init() {}
    }

    /// Company ids: company 0 owns the objects, the last company is an outsider never invited.
    public let companies: [CompanyID]
    /// Every replica.
    public private(set) var nodes: [Node]
    /// Objects in play.
    public let objects: [ObjectID]
    /// Counters.
    public private(set) var stats = Stats()
    private var rng: SplitMix64
    private var time: UInt64 = 1_000_000
    private var network: [(to: Int, batch: Batch)] = []
    private var everything: [Batch] = []
    private var partitioned: Set<Int> = []
    private let names = ["stage", "amount", "close", "notes"]

    /// Sets up `companyCount` companies (3...5) with 1...3 replicas each and `objectCount` objects.
    public init(seed: UInt64, companyCount: Int = 4, objectCount: Int = 2) {
        rng = SplitMix64(seed: seed)
        companies = (0..<companyCount).map { CompanyID(raw: ID128(high: 0xC0_0000 + UInt64($0), low: seed)) }
        var nodes: [Node] = []
        for company in 0..<companyCount {
            for index in 0..<Int.random(in: 1...3, using: &rng) {
                let replica = ReplicaID(raw: ID128(high: 0xA0_0000 + UInt64(company), low: UInt64(index)))
                nodes.append(Node(company: company, replica: replica, clock: HybridClock(replica: replica)))
            }
        }
        self.nodes = nodes
        objects = (0..<objectCount).map { ObjectID(raw: ID128(high: 0x0B, low: UInt64($0) &+ seed << 8)) }
    }

    /// Runs `steps` random steps, reaching a quiescent point and checking the invariants every `checkEvery`.
    /// Returns the problems found (empty if every invariant held).
    public mutating func run(steps: Int, checkEvery: Int = 40) -> [String] {
        for object in objects {
            let owner = nodes.firstIndex { $0.company == 0 } ?? 0
            issue(
                from: owner,
                [
                    Operation(
                        object: object,
                        timestamp: tick(owner),
                        kind: .create(type: "opportunity", nonce: object.bytes)
                    )
                ]
            )
        }
        var problems: [String] = []
        for step in 1...steps {
            if Int.random(in: 0..<3, using: &rng) == 0 { localStep() } else { deliverOne() }
            if Int.random(in: 0..<50, using: &rng) == 0 { repartition() }
            if step % checkEvery == 0 || step == steps {
                problems += quiesceAndCheck()
                if !problems.isEmpty { return problems }
            }
        }
        return problems
    }

    private mutating func tick(_ node: Int) -> Timestamp {
        time += UInt64.random(in: 0...3, using: &rng)
        return nodes[node].clock.tick(now: time)
    }

    /// The author's replica merges its batch locally, then the network carries it to every other replica.
    private mutating func issue(from node: Int, _ operations: [Operation]) {
        let batch = Batch(author: companies[nodes[node].company], operations: operations)
        stats.operations += operations.count
        nodes[node].view.deliver(batch)
        everything.append(batch)
        for other in nodes.indices where other != node { network.append((other, batch)) }
    }

    private mutating func deliverOne() {
        guard !network.isEmpty else { return }
        let index = Int.random(in: 0..<network.count, using: &rng)
        let (to, batch) = network[index]
        if partitioned.contains(to) != partitioned.contains(nodes.firstIndex { $0.view.hasSeen(batch) } ?? to) {
            return  // the two sides of a partition cannot talk; the message stays queued
        }
        switch Int.random(in: 0..<10, using: &rng) {
        case 0:
            stats.drops += 1  // lost this time; stays queued so that it is re-sent later
            return
        case 1:
            break  // duplicated: delivered now and kept queued
        default:
            network.remove(at: index)
        }
        for operation in batch.operations { nodes[to].clock.observe(operation.timestamp) }
        nodes[to].view.deliver(batch)
        stats.deliveries += 1
    }

    private mutating func repartition() {
        partitioned = Set(nodes.indices.filter { _ in Bool.random(using: &rng) })
    }

    private mutating func localStep() {
        let node = Int.random(in: 0..<nodes.count, using: &rng)
        let company = nodes[node].company
        let object = objects[Int.random(in: 0..<objects.count, using: &rng)]
        guard let state = nodes[node].view.states[object], let owner = state.owner else { return }
        let me = companies[company]
        let outsider = company == companies.count - 1
        let roll = Int.random(in: 0..<20, using: &rng)
        if me == owner && roll < 3 {
            let target = companies[Int.random(in: 1..<(companies.count - 1), using: &rng)]
            let kind: Operation.Kind =
                state.isParticipant(target) && roll == 0 ? .removeParticipant(target) : .addParticipant(target)
            if case .removeParticipant = kind { stats.removals += 1 }
            issue(from: node, [Operation(object: object, timestamp: tick(node), kind: kind)])
            return
        }
        if me == owner && roll == 3 {
            issue(from: node, [Operation(object: object, timestamp: tick(node), kind: .archive(!state.isArchived))])
            return
        }
        guard outsider || state.isParticipant(me) else { return }
        var operations: [Operation] = []
        for _ in 0..<Int.random(in: 1...3, using: &rng) {
            let name = names[Int.random(in: 0..<names.count, using: &rng)]
            let joint = Bool.random(using: &rng)
            var key = FieldKey(joint ? .joint : .company(me), name)
            var visibility: Visibility =
                joint
                ? .participants
                : [.private, .participants, .companies([companies[1]])][Int.random(in: 0..<3, using: &rng)]
            if roll == 19 && company > 0 {  // hostile: write another company's namespace
                key = FieldKey(.company(companies[(company + 1) % companies.count]), name)
                visibility = .participants
                stats.hostile += 1
            }
            let stamp = tick(node)
            switch Int.random(in: 0..<6, using: &rng) {
            case 0:
                operations.append(
                    Operation(
                        object: object,
                        timestamp: stamp,
                        kind: .addElement(key, "tag\(Int.random(in: 0..<4, using: &rng))", visibility)
                    )
                )
            case 1:
                let element = "tag\(Int.random(in: 0..<4, using: &rng))"
                let observed = state.sets[key]?.elements[element]?.observed ?? []
                operations.append(
                    Operation(
                        object: object,
                        timestamp: stamp,
                        kind: .removeElement(key, element, observed: observed, visibility)
                    )
                )
            default:
                let value: Value =
                    switch Int.random(in: 0..<5, using: &rng) {
                    case 0: .null
                    case 1: .integer(Int64.random(in: -5...5, using: &rng))
                    case 2:
                        .money(
                            Money(
                                amount: DecimalNumber(significand: Int64.random(in: 0...99_999, using: &rng), scale: 2)
                                    ?? DecimalNumber(significand: 0, scale: 0)!,
                                currency: CurrencyCode("USD")!
                            )
                        )
                    case 3: .date(CalendarDate(year: 2027, month: UInt8.random(in: 1...12, using: &rng), day: 1)!)
                    default: .string("v\(Int.random(in: 0..<9, using: &rng))")
                    }
                let preds = state.fields[key]?.heads.map(\.timestamp) ?? []
                operations.append(
                    Operation(object: object, timestamp: stamp, kind: .set(key, value, visibility, preds: preds))
                )
            }
        }
        issue(from: node, operations)
    }

    /// Heals partitions, delivers everything still queued (in random order), and checks the invariants.
    private mutating func quiesceAndCheck() -> [String] {
        partitioned = []
        network.shuffle(using: &rng)
        while let (to, batch) = network.popLast() {
            for operation in batch.operations { nodes[to].clock.observe(operation.timestamp) }
            nodes[to].view.deliver(batch)
            stats.deliveries += 1
        }
        stats.checks += 1
        var problems: [String] = []
        let reference = nodes[0].view
        for state in reference.states.values {
            stats.conflicts += state.fields.values.filter { $0.heads.count > 1 }.count
            stats.elements += state.sets.values.reduce(0) { $0 + $1.members.count }
        }
        stats.waiting += reference.waitingSet.count
        for node in nodes.dropFirst() {
            if node.view.states != reference.states {
                for object in objects where node.view.states[object] != reference.states[object] {
                    let mine = node.view.states[object]
                    let theirs = reference.states[object]
                    var parts: [String] = []
                    if mine?.membership != theirs?.membership { parts.append("membership") }
                    if mine?.archived?.value != theirs?.archived?.value
                        || mine?.archived?.timestamp != theirs?.archived?.timestamp
                    {
                        parts.append("archive")
                    }
                    for key in Set((mine?.fields.keys).map(Array.init) ?? []).union(
                        (theirs?.fields.keys).map(Array.init) ?? []
                    ) where mine?.fields[key] != theirs?.fields[key] {
                        parts.append(
                            "field \(key): \(String(describing: mine?.fields[key])) vs \(String(describing: theirs?.fields[key]))"
                        )
                    }
                    for key in Set((mine?.sets.keys).map(Array.init) ?? []).union(
                        (theirs?.sets.keys).map(Array.init) ?? []
                    ) where mine?.sets[key] != theirs?.sets[key] {
                        parts.append(
                            "set \(key): \(String(describing: mine?.sets[key])) vs \(String(describing: theirs?.sets[key]))"
                        )
                    }
                    problems.append("replica \(node.replica.short) diverged on \(object.short): \(parts.prefix(2))")
                }
            }
            if node.view.waitingSet != reference.waitingSet {
                problems.append("replica \(node.replica.short) waits on different parts")
            }
            if Set(node.view.rejected) != Set(reference.rejected) {
                problems.append("replica \(node.replica.short) refused different batches")
            }
        }
        // Authority: the state equals the state rebuilt from the accepted batches alone, so refused batches
        // changed nothing, and only writes by non-participants (or removed companies) wait.
        for object in objects {
            let accepted = everything.filter { !reference.rejected.contains($0) }.map { $0.part(object) }.filter {
                !$0.operations.isEmpty
            }
            let (rebuilt, _) = Merge.rebuild(object, from: accepted)
            if rebuilt != reference.states[object] {
                problems.append("object \(object.short) is not the rebuild of its accepted batches")
            }
        }
        for batch in reference.rejected
        where !batch.operations.contains(where: { operation in
            if case .company(let company)? = operation.field?.namespace { return company != batch.author }
            return false
        }) {
            problems.append("a batch without a foreign-namespace write was refused")
        }
        return problems
    }
}
