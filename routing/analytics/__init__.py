"""Operations figures: contact-centre KPIs per tier, queue, agent and intent; CSAT ratings."""
