"""Clinical instruments' item data and scoring: MMT-8 (Kendall 0-10 grades, totals on /80, /150,
/160) and HAQ-DI (item answers, aids and help, the index). Pure functions over the instrument data;
the patient record, the activity measures and the derived facts all use them."""
