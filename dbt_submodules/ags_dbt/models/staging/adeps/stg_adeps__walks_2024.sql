{{ stage_adeps_walks(source('adeps', 'walks_2024'), '2024-11') }}
