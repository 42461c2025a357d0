{{ stage_adeps_walks(source('adeps', 'walks_2022'), '2022-06') }}
