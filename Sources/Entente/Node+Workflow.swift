import EntenteCore
import EntenteDomain

extension Node {
    /// Converts a qualified lead into an opportunity owned by this company (`entente convert`): the opportunity
    /// takes the lead's customer as title and account, its region, a reference to the lead, and the lead's owner
    /// as originating company (unless `changes` sets them); the lead's participants (and `with`) are invited; the
    /// lead moves to `converted` and points to the opportunity. One transaction: both or neither.
    /// - Returns: the new opportunity's id.
    public func convert(
        lead id: ObjectID,
        opportunity changes: Changes = Changes(),
        with extra: [CompanyID] = []
    ) throws(EntenteError) -> ObjectID {
        try transaction { tx in
            let lead = try loadForWriting(id, tx)
            guard lead.type == Catalog.lead.name, let workflow = Catalog.lead.workflow else {
                throw EntenteError(.invalidArgument, "\(id.short) is a \(lead.type ?? "object"), not a lead")
            }
            if let problem = workflow.problem(
                from: Catalog.lead.state(of: lead),
                to: "converted",
                isOwner: lead.owner == company,
                isReservedAllowed: true
            ) {
                throw EntenteError(.invalidArgument, "lead \(id.short): \(problem)")
            }
            var opportunity = changes
            func copy(_ from: String, to field: String) {
                guard !opportunity.writes(field), let value = lead.fields[FieldKey(.joint, from)]?.winner.value,
                    value != .null
                else { return }
                opportunity.joint.append(FieldValue(field, value))
            }
            copy("customer", to: "title")
            copy("customer", to: "account")
            copy("region", to: "region")
            opportunity.joint.append(FieldValue("lead", .reference(id)))
            if !opportunity.writes("originating_company"), let owner = lead.owner {
                opportunity.joint.append(FieldValue("originating_company", .string(owner.hex)))
            }
            let participants = Array(Set(lead.participants + extra).subtracting([company])).sorted()
            let created = try createRecords(Catalog.opportunity, [opportunity], with: participants, tx)
            guard let opportunityID = created.first else { throw EntenteError(.storage, "no opportunity was created") }
            var converted = Changes()
            converted.joint = [
                FieldValue(workflow.field, .string("converted")),
                FieldValue("converted_opportunity", .reference(opportunityID)),
            ]
            converted.isConversion = true
            try updateRecords([(id, converted)], tx)
            return opportunityID
        }
    }
}
