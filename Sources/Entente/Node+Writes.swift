import EntenteCore
import EntenteCrypto
import EntenteDomain
import EntenteStore
import EntenteWire

extension Node {
    /// Most operations sealed into one envelope; larger writes are split. An envelope is the smallest unit a
    /// receiver commits, so this bounds how long one holds the receiver's write lock (about 20 ms of merging).
    static let operationsPerEnvelope = 1024

    /// Creates an object owned by this company, with `participants` invited from the start (and any partner a
    /// sharing policy invites).
    /// - Returns: the new object's id.
    /// - Throws: `.invalidArgument` for an unknown type, bad field name or value; `.unknownCompany` for a
    ///   participant that is not a pinned partner.
    public func create(
        type: String,
        changes: Changes,
        with participants: [CompanyID] = []
    ) throws(EntenteError) -> ObjectID {
        let ids = try createMany(type: type, records: [changes], with: participants)
        guard let id = ids.first else { throw EntenteError(.storage, "no object was created") }
        return id
    }

    /// Creates many objects of one type owned by this company, in transactions of `chunk` objects (a bulk CRM
    /// import, the benchmark's W1; 500 records of 20 fields hold the write lock about 90 ms). Returns the new
    /// ids in order.
    public func createMany(
        type: String,
        records: [Changes],
        with participants: [CompanyID] = [],
        chunk: Int = 500
    ) throws(EntenteError) -> [ObjectID] {
        let kind = try knownKind(type)
        var ids: [ObjectID] = []
        ids.reserveCapacity(records.count)
        var start = 0
        while start < records.count {
            let slice = records[start..<min(start + max(chunk, 1), records.count)]
            ids += try transaction { tx in try createRecords(kind, Array(slice), with: participants, tx) }
            start += slice.count
        }
        return ids
    }

    /// Writes fields of many objects, in transactions of `chunk` objects (the benchmark's W2).
    public func updateMany(_ updates: [(ObjectID, Changes)], chunk: Int = 500) throws(EntenteError) {
        var start = 0
        while start < updates.count {
            let slice = updates[start..<min(start + max(chunk, 1), updates.count)]
            try transaction { tx in try updateRecords(Array(slice), tx) }
            start += slice.count
        }
    }

    /// Moves an object along its kind's workflow (`entente move`): checks the move, and writes the new state
    /// with any fields the state needs (a closed-lost reason, say) in `also`.
    /// - Throws: `.invalidArgument` naming the problem if the workflow forbids the move.
    public func move(
        _ id: ObjectID,
        to state: String,
        reopen: Bool = false,
        also: Changes = Changes()
    ) throws(EntenteError) {
        try transaction { tx in
            let current = try loadForWriting(id, tx)
            guard let kind = current.type.flatMap(Catalog.kind(named:)), let workflow = kind.workflow else {
                throw EntenteError(.invalidArgument, "\(current.type ?? "this object") has no workflow to move along")
            }
            var changes = also
            changes.joint.append(FieldValue(workflow.field, .string(state)))
            changes.reopen = reopen
            try updateRecords([(id, changes)], tx)
        }
    }

    func knownKind(_ type: String) throws(EntenteError) -> ObjectKind {
        guard let kind = Catalog.kind(named: type) else {
            let known = Catalog.all.map(\.name).joined(separator: ", ")
            throw EntenteError(.invalidArgument, "unknown object type '\(type)'; known types: \(known)")
        }
        return kind
    }

    /// Creates objects inside a transaction (see `createMany`).
    func createRecords(
        _ kind: ObjectKind,
        _ records: [Changes],
        with participants: [CompanyID],
        _ tx: StoreTransaction
    ) throws -> [ObjectID] {
        let policies = try policySet(tx)
        var checked: Set<CompanyID> = []
        var operations: [Operation] = []
        var ids: [ObjectID] = []
        for changes in records {
            var invited = participants
            if !policies.policies.isEmpty {
                invited += policies.invitations(type: kind.name, values: prospectiveValues(changes, nil))
            }
            let others = Set(invited).subtracting([company])
            for participant in others where checked.insert(participant).inserted {
                guard try tx.company(participant) != nil else {
                    throw EntenteError(.unknownCompany, "company \(participant.short) is not a pinned partner")
                }
            }
            // The id derives from the create's stamp, so a batch can name the object in a few bytes.
            let created = tick()
            let (id, nonce) = Derivation.objectID(owner: company, created: created)
            var scratch = ObjectState(id: id)
            var head = [Operation(object: id, timestamp: created, kind: .create(type: kind.name, nonce: nonce))]
            for participant in others.sorted() {
                head.append(Operation(object: id, timestamp: tick(), kind: .addParticipant(participant)))
            }
            for operation in head { scratch.apply(operation, author: company) }
            operations += head
            var initial = changes
            if let workflow = kind.workflow, !changes.writes(workflow.field) {
                initial.joint.append(FieldValue(workflow.field, .string(workflow.initial)))
            }
            operations += try fieldWrites(initial, state: &scratch, kind: kind, policies: policies, isNew: true, tx)
            ids.append(id)
        }
        var states: [ObjectID: ObjectState] = [:]
        try commit(operations, states: &states, tx)
        return ids
    }

    /// Writes fields of objects inside a transaction (see `updateMany`); invites first the partners a policy
    /// names for an object this company owns.
    func updateRecords(_ updates: [(ObjectID, Changes)], _ tx: StoreTransaction) throws {
        let policies = try policySet(tx)
        // Loaded together (a few queries per 500 objects).
        var loaded = try tx.loadObjects(Array(Set(updates.map(\.0))))
        if !policies.policies.isEmpty {
            var invited: Set<ObjectID> = []
            for (id, changes) in updates {
                let state = try writable(loaded[id], id)
                guard state.owner == company, let type = state.type else { continue }
                for partner in policies.invitations(type: type, values: prospectiveValues(changes, state))
                where partner != company && !state.isParticipant(partner) {
                    try inviteLocked(id, partner, tx)
                    invited.insert(id)
                }
            }
            // An invitation wrote its object: read those again.
            for (id, state) in try tx.loadObjects(Array(invited)) { loaded[id] = state }
        }
        var states: [ObjectID: ObjectState] = [:]
        var scratch: [ObjectID: ObjectState] = [:]
        var operations: [Operation] = []
        for (id, changes) in updates {
            if states[id] == nil { states[id] = try writable(loaded[id], id) }
            var state = scratch[id] ?? states[id] ?? ObjectState(id: id)
            operations += try fieldWrites(
                changes,
                state: &state,
                kind: state.type.flatMap(Catalog.kind(named:)),
                policies: policies,
                isNew: false,
                tx
            )
            scratch[id] = state
        }
        try commit(operations, states: &states, tx)
    }

    /// Writes fields of an existing object.
    /// - Throws: `.notFound` for an unknown object; `.invalidArgument` if `sharedWith` names a company that does
    ///   not take part in the object; `.rejected` if this company is not a participant.
    public func update(_ id: ObjectID, changes: Changes) throws(EntenteError) {
        guard !changes.isEmpty else {
            throw EntenteError(.invalidArgument, "nothing to change: give at least one field")
        }
        try updateMany([(id, changes)])
    }

    /// Changes who may read one of this company's own fields. Widening sends the current value to the new
    /// audience; narrowing only stops future values (what was delivered stays delivered).
    public func share(
        _ id: ObjectID,
        field name: String,
        with sharing: Sharing,
        droppingOutsiders: Bool = false
    ) throws(EntenteError) {
        try transaction { tx in
            let state = try loadForWriting(id, tx)
            let key = FieldKey(.company(company), name)
            let visibility = try resolve(sharing, state: state, droppingOutsiders: droppingOutsiders)
            var operations: [Operation] = []
            if let field = state.fields[key] {
                let preds = field.heads.map(\.timestamp)
                operations.append(
                    Operation(
                        object: id,
                        timestamp: tick(),
                        kind: .set(key, field.winner.value, visibility, preds: preds)
                    )
                )
            } else if let set = state.sets[key] {
                for (element, elementState) in set.elements.sorted(by: { $0.key < $1.key }) where elementState.isPresent
                {
                    operations.append(
                        Operation(object: id, timestamp: tick(), kind: .addElement(key, element, visibility))
                    )
                }
            } else {
                throw EntenteError(.notFound, "\(card.name) has no field '\(name)' on \(id.short)")
            }
            var states = [id: state]
            try commit(operations, states: &states, tx)
        }
    }

    /// Adds and removes elements of a set field (add-wins: a concurrent add by a partner survives a remove).
    /// `joint` writes the joint set; otherwise this company's own set, shared as `sharing` says.
    /// - Returns: the elements to remove that this node does not hold (nothing to remove for them).
    @discardableResult
    public func updateSet(
        _ id: ObjectID,
        field name: String,
        joint: Bool,
        sharing: Sharing = .allParticipants,
        add: [String] = [],
        remove: [String] = []
    ) throws(EntenteError) -> [String] {
        guard !add.isEmpty || !remove.isEmpty else {
            throw EntenteError(.invalidArgument, "give elements to add or remove")
        }
        return try transaction { tx in
            let state = try loadForWriting(id, tx)
            let key = FieldKey(joint ? .joint : .company(company), name)
            guard FieldKey.isValidName(name) else {
                throw EntenteError(.invalidArgument, "field name '\(name)' is not valid")
            }
            let visibility = joint ? .participants : try resolve(sharing, state: state)
            var operations: [Operation] = []
            for element in add {
                operations.append(Operation(object: id, timestamp: tick(), kind: .addElement(key, element, visibility)))
            }
            var absent: [String] = []
            for element in remove {
                guard let elementState = state.sets[key]?.elements[element], elementState.isPresent else {
                    absent.append(element)
                    continue
                }
                operations.append(
                    Operation(
                        object: id,
                        timestamp: tick(),
                        kind: .removeElement(key, element, observed: elementState.observed, visibility)
                    )
                )
            }
            var states = [id: state]
            try commit(operations, states: &states, tx)
            return absent
        }
    }

    /// Adds a partner to an object this company owns. The partner receives the object's create, participants,
    /// joint fields and this company's fields shared with it; the other participants re-send their own shared
    /// fields to it when they learn of the invitation.
    public func invite(_ id: ObjectID, _ partner: CompanyID) throws(EntenteError) {
        try transaction { tx in try inviteLocked(id, partner, tx) }
    }

    /// Invites inside a transaction: the owner's add-participant operation, then the newcomer's snapshot.
    func inviteLocked(_ id: ObjectID, _ partner: CompanyID, _ tx: StoreTransaction) throws {
        let state = try loadOwned(id, tx)
        guard try tx.company(partner) != nil, partner != company else {
            throw EntenteError(.unknownCompany, "company \(partner.short) is not a pinned partner")
        }
        guard !state.isParticipant(partner) else { return }
        var states = [id: state]
        try commit([Operation(object: id, timestamp: tick(), kind: .addParticipant(partner))], states: &states, tx)
        guard let updated = states[id] else { return }
        let snapshot = updated.snapshot(for: partner)
        try emit(
            snapshot.ownership
                + tombstoneOperations(
                    updated,
                    for: partner,
                    writable: { $0.namespace == .joint || $0.namespace == .company(company) }
                ),
            to: [partner],
            states: states,
            tx,
            logParts: false
        )
        try emit(snapshot.relayed, to: [partner], states: states, tx, logParts: false)
    }

    /// Removes a partner from an object this company owns: it receives no new operations from then on; what it
    /// wrote before stays, what it writes after is ignored by every replica.
    public func uninvite(_ id: ObjectID, _ partner: CompanyID) throws(EntenteError) {
        try transaction { tx in
            let state = try loadOwned(id, tx)
            guard state.isParticipant(partner), partner != company else {
                throw EntenteError(.invalidArgument, "company \(partner.short) does not take part in \(id.short)")
            }
            var states = [id: state]
            try commit(
                [Operation(object: id, timestamp: tick(), kind: .removeParticipant(partner))],
                states: &states,
                tx
            )
        }
    }

    /// Archives (or restores) an object this company owns: archived objects leave `objects()` but keep their
    /// history and still sync.
    public func archive(_ id: ObjectID, _ archived: Bool = true) throws(EntenteError) {
        try transaction { tx in
            let state = try loadOwned(id, tx)
            var states = [id: state]
            try commit([Operation(object: id, timestamp: tick(), kind: .archive(archived))], states: &states, tx)
        }
    }

    /// Fresh remove operations that carry a set's tombstones to a (re-)invited company (`ObjectState.tombstones`).
    func tombstoneOperations(
        _ state: ObjectState,
        for recipient: CompanyID,
        writable: (FieldKey) -> Bool
    ) -> [Operation] {
        state.tombstones(for: recipient, where: writable).map { entry in
            Operation(
                object: state.id,
                timestamp: tick(),
                kind: .removeElement(entry.key, entry.element, observed: entry.observed, entry.visibility)
            )
        }
    }

    func loadForWriting(_ id: ObjectID, _ tx: StoreTransaction) throws -> ObjectState {
        try writable(try tx.loadObject(id), id)
    }

    /// The loaded state of object `id`, if this company may write it.
    private func writable(_ state: ObjectState?, _ id: ObjectID) throws -> ObjectState {
        guard let state, state.exists else {
            throw EntenteError(.notFound, "no object \(id.short) on this node")
        }
        guard state.isParticipant(company) else {
            throw EntenteError(
                .rejected,
                "\(card.name) no longer takes part in \(id.short); only the owner can invite it again"
            )
        }
        return state
    }

    func loadOwned(_ id: ObjectID, _ tx: StoreTransaction) throws -> ObjectState {
        guard let state = try tx.loadObject(id), state.exists else {
            throw EntenteError(.notFound, "no object \(id.short) on this node")
        }
        guard state.owner == company else { throw EntenteError(.rejected, "only the owner of \(id.short) can do that") }
        return state
    }

    /// The visibility for `sharing`. Named partners must take part in the object, unless `droppingOutsiders`
    /// (a policy's audience): then the ones that do not are left out (never widened to everyone).
    private func resolve(
        _ sharing: Sharing,
        state: ObjectState,
        droppingOutsiders: Bool = false
    ) throws -> Visibility {
        switch sharing {
        case .private: return .private
        case .allParticipants: return .participants
        case .partners(let partners):
            var named = Set(partners).subtracting([company])
            if droppingOutsiders { named = named.filter { state.isParticipant($0) } }
            if let outsider = named.first(where: { !state.isParticipant($0) }) {
                throw EntenteError(
                    .invalidArgument,
                    "company \(outsider.short) does not take part in \(state.id.short); the owner must invite it first"
                )
            }
            return named.isEmpty ? .private : .companies(named)
        }
    }

    /// The set operations for `changes`, each listing as preds the heads it sees. Each write is applied to
    /// `state` as it is made, so a later write to the same field (in this call or a later one on the same
    /// scratch state) supersedes it instead of looking concurrent with it.
    ///
    /// Catalog fields are type-checked (text is read in the field's canonical form); a write of the workflow
    /// field must be a move the workflow allows; `changes.fields` are placed by this company's policies, else
    /// by the catalog (fields outside the catalog stay private).
    private func fieldWrites(
        _ changes: Changes,
        state: inout ObjectState,
        kind: ObjectKind?,
        policies: PolicySet,
        isNew: Bool,
        _ tx: StoreTransaction
    ) throws -> [Operation] {
        let sharedVisibility = try resolve(
            changes.sharedWith.isEmpty ? .allParticipants : .partners(changes.sharedWith),
            state: state
        )
        var writes: [(key: FieldKey, value: Value, visibility: Visibility?)] = []
        let own = Namespace.company(company)
        for field in changes.joint { writes.append((FieldKey(.joint, field.name), field.value, .participants)) }
        for field in changes.shared { writes.append((FieldKey(own, field.name), field.value, sharedVisibility)) }
        for field in changes.privateFields { writes.append((FieldKey(own, field.name), field.value, .private)) }
        // What policy conditions see: the values after this write (computed once for fields and sets).
        let values = prospectiveValues(changes, state)
        if !changes.fields.isEmpty {
            for field in changes.fields {
                let (namespace, sharing) = placement(of: field.name, kind: kind, policies: policies, values: values)
                let visibility = try resolve(sharing, state: state, droppingOutsiders: true)
                writes.append((FieldKey(namespace, field.name), field.value, visibility))
            }
        }
        for name in changes.unsetJoint { writes.append((FieldKey(.joint, name), .null, .participants)) }
        for name in changes.unset { writes.append((FieldKey(own, name), .null, nil)) }

        let workflow = kind?.workflow
        let stageKey = workflow.map { FieldKey(.joint, $0.field) }
        let before = kind?.state(of: state)
        var moved: String?
        var operations: [Operation] = []
        for (key, raw, visibility) in writes {
            guard FieldKey.isValidName(key.name) else {
                throw EntenteError(
                    .invalidArgument,
                    "field name '\(key.name)' must be 1-\(FieldKey.maxNameBytes) bytes without control characters"
                )
            }
            var value = raw
            if let kind {
                switch kind.check(key.name, raw, joint: key.namespace == .joint) {
                case .success(let checked): value = checked
                case .failure(let problem): throw EntenteError(.invalidArgument, problem.message)
                }
            }
            if key == stageKey, let workflow {
                guard case .string(let target) = value else {
                    throw EntenteError(.invalidArgument, "the \(workflow.field) of a \(kind?.name ?? "") cannot be unset")
                }
                if let problem = workflow.problem(
                    from: isNew ? nil : before,
                    to: target,
                    isOwner: state.owner == company,
                    reopening: changes.reopen,
                    isReservedAllowed: isNew || changes.isConversion
                ) {
                    throw EntenteError(.invalidArgument, "\(kind?.name ?? "object") \(state.id.short): \(problem)")
                }
                moved = target
            }
            let preds = state.fields[key]?.heads.map(\.timestamp) ?? []
            guard let chosen = visibility ?? state.fields[key]?.winner.visibility else {
                throw EntenteError(.notFound, "\(card.name) has no field '\(key.name)' to unset")
            }
            let operation = Operation(object: state.id, timestamp: tick(), kind: .set(key, value, chosen, preds: preds))
            state.apply(operation, author: company)
            operations.append(operation)
        }
        for (name, elements) in changes.sets.sorted(by: { $0.key < $1.key }) {
            guard FieldKey.isValidName(name) else {
                throw EntenteError(.invalidArgument, "field name '\(name)' is not valid")
            }
            if let spec = kind?.field(named: name), !spec.type.isSet {
                throw EntenteError(.invalidArgument, "\(kind?.name ?? "") \(name) is not a set field")
            }
            let (namespace, sharing) = placement(of: name, kind: kind, policies: policies, values: values)
            let key = FieldKey(namespace, name)
            let visibility =
                namespace == .joint ? .participants : try resolve(sharing, state: state, droppingOutsiders: true)
            let current = state.sets[key]
            let wanted = Set(elements)
            var setOperations: [Operation] = []
            for element in elements.sorted() where !(current?.elements[element]?.isPresent ?? false) {
                setOperations.append(Operation(object: state.id, timestamp: tick(), kind: .addElement(key, element, visibility)))
            }
            for (element, elementState) in (current?.elements ?? [:]).sorted(by: { $0.key < $1.key })
            where elementState.isPresent && !wanted.contains(element) {
                setOperations.append(
                    Operation(
                        object: state.id,
                        timestamp: tick(),
                        kind: .removeElement(key, element, observed: elementState.observed, visibility)
                    )
                )
            }
            for operation in setOperations { state.apply(operation, author: company) }
            operations += setOperations
        }
        if let moved, moved != before, let kind, let workflow {
            for required in workflow.requires[moved, default: []] where !hasValue(required, in: state) {
                throw EntenteError(
                    .invalidArgument,
                    "\(kind.name) \(state.id.short): entering '\(moved)' needs \(required)"
                        + (required == "closed_lost_reason" ? " (give --reason)" : "")
                )
            }
            if kind.name == Catalog.claim.name, moved == "approved" { try checkClaimWithinFunds(state, tx) }
        }
        return operations
    }

    /// Whether `name` holds a value this company sees (the joint field, else this company's own).
    func hasValue(_ name: String, in state: ObjectState) -> Bool {
        for key in [FieldKey(.joint, name), FieldKey(.company(company), name)] {
            if let field = state.fields[key], field.winner.value != .null { return true }
        }
        return false
    }

    /// Where this company writes field `name`: a policy's audience (as this company's own field), else the
    /// catalog's placement; a field outside the catalog stays private.
    func placement(
        of name: String,
        kind: ObjectKind?,
        policies: PolicySet,
        values: (String) -> [String]
    ) -> (Namespace, Sharing) {
        let own = Namespace.company(company)
        if let kind, let (_, sharing) = policies.sharing(of: name, type: kind.name, values: values) {
            switch sharing {
            case .private: return (own, .private)
            case .participants: return (own, .allParticipants)
            case .partners(let partners): return (own, .partners(partners))
            }
        }
        switch kind?.field(named: name)?.placement {
        case .joint: return (.joint, .allParticipants)
        case .shared: return (own, .allParticipants)
        case .private, nil: return (own, .private)
        }
    }

    /// The field values (as text) an object will have after `changes`, as policy conditions see them: the
    /// written value, else the joint value, else this company's own.
    func prospectiveValues(_ changes: Changes, _ state: ObjectState?) -> (String) -> [String] {
        var written: [String: [String]] = [:]
        for field in changes.joint + changes.shared + changes.privateFields + changes.fields {
            written[field.name] = [field.value.description]
        }
        let own = Namespace.company(company)
        return { name in
            if let value = written[name] { return value }
            guard let state else { return [] }
            for key in [FieldKey(.joint, name), FieldKey(own, name)] {
                if let field = state.fields[key] { return [field.winner.value.description] }
                if let set = state.sets[key] { return set.members }
            }
            return []
        }
    }

    func tick() -> Timestamp {
        clock.tick(now: options.now())
    }

    /// Merges local operations (they must all apply), persists the states, and seals them into one envelope
    /// per audience.
    func commit(_ operations: [Operation], states: inout [ObjectID: ObjectState], _ tx: StoreTransaction) throws {
        guard !operations.isEmpty else { return }
        let previous = states
        switch Merge.apply(Batch(author: company, operations: operations), to: &states) {
        case .reject(let error): throw EntenteError(.rejected, error.message, cause: error)
        case .merged(let result):
            if let reason = result.waiting.values.first { throw EntenteError(.rejected, reason) }
        }
        for (id, state) in states { try tx.saveObject(state, previous: previous[id]) }
        record(from: previous, to: states, author: company, isLocal: true)
        // One envelope per audience (split at `operationsPerEnvelope`): a bulk write of many objects shared
        // the same way costs one signature and one sealed key per recipient per envelope, not per object.
        var groups: [(audience: Set<CompanyID>, operations: [Operation])] = []
        var index: [Set<CompanyID>: Int] = [:]
        // An object's operations come together: its participants are computed once for them.
        var last: (object: ObjectID, participants: Set<CompanyID>)?
        for operation in operations {
            guard let state = states[operation.object] else { continue }
            let participants: Set<CompanyID>
            if let last, last.object == operation.object {
                participants = last.participants
            } else {
                participants = state.participants
                last = (operation.object, participants)
            }
            let audience = state.audience(of: operation, participants: participants)
            if let position = index[audience] {
                groups[position].operations.append(operation)
            } else {
                index[audience] = groups.count
                groups.append((audience, [operation]))
            }
        }
        for group in groups { try emit(group.operations, to: group.audience, states: states, tx, logParts: true) }
        // A local ownership change (an invitation, say) may let parts waiting on that object apply.
        importChanged = Set(operations.filter(\.isOwnerOperation).map(\.object))
        defer { importChanged.removeAll() }
        var report = ImportReport()
        var newcomers = Newcomers()
        try retryWaiting(tx, &report, &newcomers)
        try saveClock(tx)
    }

    /// Seals operations for an audience (in chunks) and logs the envelopes; `logParts` records them as applied
    /// parts of their objects (local writes), otherwise they are only kept for export (re-sent snapshots).
    /// `states` hold the objects' origins, so that the batch names them by their creation stamps.
    @discardableResult
    func emit(
        _ operations: [Operation],
        to audience: Set<CompanyID>,
        states: [ObjectID: ObjectState],
        _ tx: StoreTransaction,
        logParts: Bool
    ) throws -> Int {
        guard !operations.isEmpty else { return 0 }
        var addressees: [(CompanyID, BoxPublicKey)] = []
        for member in audience.sorted() {
            guard let known = try tx.company(member) else {
                throw EntenteError(
                    .unknownCompany,
                    "company \(member.short) takes part but is not a pinned partner; add its card"
                )
            }
            addressees.append((member, known.card.encryptionKey))
        }
        var count = 0
        var start = 0
        while start < operations.count {
            let chunk = Array(operations[start..<min(start + Self.operationsPerEnvelope, operations.count)])
            var list: [Addressee] = []
            for (member, key) in addressees {
                list.append(Addressee(company: member, encryptionKey: key, sequence: try tx.nextSequence(for: member)))
            }
            let objects = Batch(author: company, operations: chunk).objects
            let origins = objects.compactMap { object -> ObjectOrigin? in
                guard let state = states[object], let owner = state.owner, let created = state.created else { return nil }
                return ObjectOrigin(owner: owner, created: created)
            }
            let envelope = try Envelope.seal(chunk, from: credentials, to: list, origins: origins)
            let rowid = try tx.logEnvelope(envelope)
            if logParts {
                for object in objects { try tx.setPart(rowid, object, waiting: nil) }
            }
            count += 1
            start += chunk.count
        }
        return count
    }
}
